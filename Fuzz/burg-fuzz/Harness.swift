import Foundation

/// The components fuzzed, each with the invariants its harness asserts (see docs/SECURITY.md, "Fuzzing").
enum Harness: String, CaseIterable {
    case filter, sort, json, lines, csv, multipart, fio, backup

    typealias Entry = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// The callback libFuzzer runs on each input. Each is a plain function (a C callback captures nothing).
    var entry: Entry {
        switch self {
        case .filter: { data, size in FilterHarness.run(bytes(data, size)); return 0 }
        case .sort: { data, size in SortHarness.run(bytes(data, size)); return 0 }
        case .json: { data, size in JSONHarness.run(bytes(data, size)); return 0 }
        case .lines: { data, size in LineHarness.run(bytes(data, size)); return 0 }
        case .csv: { data, size in CSVHarness.run(bytes(data, size)); return 0 }
        case .multipart: { data, size in MultipartHarness.run(bytes(data, size)); return 0 }
        case .fio: { data, size in FioHarness.run(bytes(data, size)); return 0 }
        case .backup: { data, size in BackupHarness.run(bytes(data, size)); return 0 }
        }
    }
}

/// The input as an array (libFuzzer's buffer is only valid during the call).
func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Stops the process with `message` when an invariant does not hold: libFuzzer reports it as a crash and
/// saves the input.
func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    guard !condition else { return }
    FileHandle.standardError.write(Data("burg-fuzz: invariant broken at \(file):\(line): \(message())\n".utf8))
    abort()
}

/// Fails the run on an error a component must never throw (it throws only its typed errors).
func unexpected(_ error: any Error, _ context: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    FileHandle.standardError.write(Data("burg-fuzz: unexpected error at \(file):\(line) for \(context): \(String(reflecting: error))\n".utf8))
    abort()
}

/// A private temporary directory for one harness process (removed by the OS's tmp cleaning, not here:
/// libFuzzer ends the process with exit()).
func temporaryDirectory(_ label: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("burg-fuzz-\(label)-\(getpid())-\(UUID().uuidString)")
    do {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
        unexpected(error, "creating \(url.path)")
    }
    return url
}
