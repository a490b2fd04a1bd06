import Foundation
import SystemPackage

/// A fresh directory under the system's temp dir, removed when the value is deinitialised.
public final class TemporaryDirectory: Sendable {
    public let path: FilePath

    public init(_ label: String = "burg-test") throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(base)/\(label)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        path = FilePath(String(cString: made))
    }

    /// A path inside the directory.
    public func path(_ name: String) -> FilePath { path.appending(name) }

    deinit {
        // Make everything removable again (tests chmod things away), then remove.
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+rwx", path.string])
            .waitUntilExit()
        try? FileManager.default.removeItem(atPath: path.string)
    }
}
