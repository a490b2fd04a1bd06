import BurgCore
import BurgTestSupport
import Foundation
import Testing

/// `burg serve` fills the store's configuration from flags, then `BURG_STORE_*` variables, then the config
/// file, then defaults; the effective values are logged at start.
@Suite struct StoreSettingsTests {
    func settingsLine(_ serve: ChildProcess) throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let line = serve.standardError.split(separator: "\n").first(where: { $0.contains("store settings") }) {
                return String(line)
            }
            if !serve.isRunning { break }
            usleep(20_000)
        }
        throw ChildProcess.Failure(description: "no settings line: \(serve.standardError)")
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
        let line = try settingsLine(serve)
        #expect(line.contains("synchronous=full"))  // file
        #expect(line.contains("busyTimeout=7.0"))  // file
        #expect(line.contains("maxReaders=3"))  // environment over file
        #expect(line.contains("retryDeadline=11.0"))  // flag over file
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
