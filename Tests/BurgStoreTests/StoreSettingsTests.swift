import BurgCore
import BurgTestSupport
import Foundation
import Testing

/// `burg serve` fills the store's configuration from flags, then `BURG_STORE_*` variables, then the config
/// file, then defaults; the effective values are logged at start.
@Suite struct StoreSettingsTests {
    /// The metadata of the JSON log line (on standard output) whose message is "store settings".
    func settings(_ serve: ChildProcess) throws -> [String: String] {
        func object(_ line: String) -> [String: Any]? {
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
        let line = try serve.waitForLine { object($0)?["message"] as? String == "store settings" }
        return (object(line) ?? [:]).compactMapValues { $0 as? String }
    }

    @Test func flagsOverrideTheEnvironmentWhichOverridesTheConfigFile() throws {
        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data")
        try FileManager.default.createDirectory(atPath: dataDir.string, withIntermediateDirectories: true)
        try AtomicFile.write(Array(#"{"store": {"synchronous": "full", "busyTimeout": 7, "maxReaders": 5, "retryDeadline": 9}}"#.utf8),
                             to: dataDir.appending("burg.json"))
        let serve = try ChildProcess(
            BuiltProducts.burg, ["serve", "--http", "127.0.0.1:0", "--data-dir", dataDir.string, "--retry-deadline", "11"],
            environment: ["BURG_STORE_MAX_READERS": "3"])
        let values = try settings(serve)
        #expect(values["synchronous"] == "full")  // file
        #expect(values["busyTimeout"] == "7.0")  // file
        #expect(values["maxReaders"] == "3")  // environment over file
        #expect(values["retryDeadline"] == "11.0")  // flag over file
        serve.signal(SIGKILL)  // only the settings matter here; shutdown is tested elsewhere
        try serve.wait()
    }

    @Test func aMalformedOrMissingConfigFileIsRefusedWithItsPath() throws {
        let dir = try TemporaryDirectory()
        let bad = dir.path("bad.json")
        try AtomicFile.write(Array("{not json".utf8), to: bad)
        let malformed = try ChildProcess.burg("serve", "--http", "127.0.0.1:0", "--data-dir", dir.path("d").string, "--config", bad.string)
        #expect(try malformed.wait() == ExitStatus.config)
        #expect(malformed.standardError.contains(bad.string))
        let missing = try ChildProcess.burg("serve", "--http", "127.0.0.1:0", "--data-dir", dir.path("d").string, "--config", dir.path("nope.json").string)
        #expect(try missing.wait() == ExitStatus.noInput)
    }
}
