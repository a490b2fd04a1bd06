import BurgBench
import BurgTestSupport
import Foundation
import SystemPackage

/// Whether the long forms run (`BURG_SOAK=1`).
let soak = ProcessInfo.processInfo.environment["BURG_SOAK"] == "1"

/// fio's path, when installed (tests that need it are enabled only then).
let fioPath = FioRunner.find()
let fioInstalled = fioPath != nil

/// A small, fast benchmark on `directory`: 16 MiB file, short runs.
func quickSettings(_ directory: FilePath, only: [String] = ["RND4K Q1T1 read"]) -> BenchSettings {
    var settings = BenchSettings(preset: .cdm, target: directory.string)
    settings.fileSize = 16 << 20
    settings.duration = 0.5
    settings.rampUp = 0.1
    settings.only = only
    return settings
}

/// A test file of `size` random bytes (written directly, not by BurgBench).
func makeFile(_ path: FilePath, size: Int) throws {
    var bytes = [UInt8](repeating: 0, count: size)
    var generator = SystemRandomNumberGenerator()
    for index in stride(from: 0, to: size, by: 8) {
        withUnsafeBytes(of: generator.next()) { word in
            for offset in 0..<min(8, size - index) { bytes[index + offset] = word[offset] }
        }
    }
    try Data(bytes).write(to: URL(fileURLWithPath: path.string))
}

func testFiles(in directory: FilePath) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.string)) ?? [])
        .filter { $0.hasPrefix(BenchTarget.testFilePrefix) }
}

/// Waits until `condition` holds, up to `timeout`.
func waitUntil(timeout: Duration = .seconds(30), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// `key=value` fields of a helper's output line.
func fields(_ line: String) -> [String: UInt64] {
    var result: [String: UInt64] = [:]
    for part in line.split(separator: " ") {
        let pair = part.split(separator: "=", maxSplits: 1)
        if pair.count == 2, let value = UInt64(pair[1]) { result[String(pair[0])] = value }
    }
    return result
}

/// A fixture recorded from real fio (Tests/BurgBenchTests/Fixtures).
func fixture(_ name: String) throws -> String {
    let url = Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
    return String(decoding: try Data(contentsOf: url), as: UTF8.self)
}
