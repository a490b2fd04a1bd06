import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// Input that is not a file of records — an endless stream, a directory, a line of many megabytes — ends
/// a real `burg import` with a clear message and bounded memory, and imports nothing after it.
@Suite struct ImportLimitsTests {
    static func prepare() throws -> (TemporaryDirectory, String) {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        let definition = dir.path("parts.json")
        try AtomicFile.write(Array(#"{"name": "parts", "fields": [{"name": "code", "type": "text"}]}"#.utf8), to: definition)
        let create = try ChildProcess.burg("collections", "create", definition.string, "--data-dir", data)
        #expect(try create.wait() == 0, "\(create.standardError)")
        return (dir, data)
    }

    /// Runs `burg import` and samples its peak resident set size (KiB) until it exits.
    static func run(_ arguments: [String]) throws -> (status: Int32, stderr: String, peakKiB: Int) {
        let process = try ChildProcess(BuiltProducts.burg, ["import"] + arguments)
        var peak = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning, ContinuousClock.now < deadline {
            if let status = try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kib = Int(line.split(separator: " ").dropFirst().first ?? "") {
                peak = max(peak, kib)
            }
            usleep(20_000)
        }
        if process.isRunning { process.signal(SIGKILL) }
        return (try process.wait(), process.standardError, peak)
    }

    @Test func anEndlessStreamWithoutNewlinesStopsAtTheLineLimitWithBoundedMemory() throws {
        let (dir, data) = try Self.prepare()
        let result = try withExtendedLifetime(dir) { try Self.run(["parts", "/dev/zero", "--data-dir", data]) }
        #expect(result.status == ExitStatus.dataError, "\(result.stderr)")
        #expect(result.stderr.contains("line 1 is longer than 16777216 bytes"), "\(result.stderr)")
        // 16 MiB of line buffer plus the process itself; before the limit this grew without end.
        #expect(result.peakKiB < 160 * 1024, "peak RSS \(result.peakKiB) KiB")
    }

    @Test func aLineAboveALoweredLimitIsRefusedNamingItsNumberAndEarlierBatchesStay() throws {
        let (dir, data) = try Self.prepare()
        let file = dir.path("long.ndjson")
        let good = (1...3).map { "{\"code\":\"C\($0)\"}" }.joined(separator: "\n")
        try AtomicFile.write(Array((good + "\n{\"code\":\"" + String(repeating: "y", count: 3 << 20) + "\"}\n").utf8), to: file)
        let result = try Self.run(["parts", file.string, "--max-line-length", "\(1 << 20)", "--batch-size", "1", "--data-dir", data])
        #expect(result.status == ExitStatus.dataError, "\(result.stderr)")
        #expect(result.stderr.contains("line 4 is longer than 1048576 bytes") && result.stderr.contains("3 records committed"), "\(result.stderr)")
        let list = try ChildProcess.burg("records", "list", "parts", "--json", "--data-dir", data)
        #expect(try list.wait() == 0)
        #expect(list.lines.joined().contains("\"totalItems\":3"), "\(list.lines)")
    }

    @Test func aCSVQuoteThatIsNeverClosedIsBoundedByTheSameLimit() throws {
        let (dir, data) = try Self.prepare()
        let file = dir.path("open.csv")
        let body = "code\n\"never closed\n" + String(repeating: "more text\n", count: 20_000)
        try AtomicFile.write(Array(body.utf8), to: file)
        let result = try Self.run(["parts", file.string, "--max-line-length", "65536", "--data-dir", data])
        #expect(result.status == ExitStatus.dataError, "\(result.stderr)")
        #expect(result.stderr.contains("the CSV record from line 2 is longer than 65536 bytes"), "\(result.stderr)")
    }

    @Test func aDirectoryIsRefusedInWordsNotWithASystemErrorDump() throws {
        let (dir, data) = try Self.prepare()
        let result = try Self.run(["parts", dir.path.string, "--data-dir", data])
        #expect(result.status == ExitStatus.noInput, "\(result.stderr)")
        #expect(result.stderr.contains("is a directory; name an NDJSON or CSV file in it"), "\(result.stderr)")
        #expect(!result.stderr.contains("NSError") && !result.stderr.contains("Domain="), "\(result.stderr)")
    }

    @Test(arguments: ["0", "-1", "100001", "9223372036854775807"])
    func aBatchSizeOutsideItsRangeIsAUsageError(value: String) throws {
        let (dir, data) = try Self.prepare()
        let file = dir.path("one.ndjson")
        try AtomicFile.write(Array("{\"code\":\"A\"}\n".utf8), to: file)
        let result = try Self.run(["parts", file.string, "--batch-size=\(value)", "--data-dir", data])
        #expect(result.status == ExitStatus.usage, "\(result.stderr)")
        #expect(result.stderr.contains("--batch-size must be a whole number from 1 to 100000"), "\(result.stderr)")
    }
}
