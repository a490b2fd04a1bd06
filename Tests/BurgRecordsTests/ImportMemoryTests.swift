import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// Importing a stream keeps memory flat whatever its size: a real `burg import` process's peak RSS for a
/// large NDJSON file is within a few MiB of its peak for a small one. Short form here (8 vs 64 MiB);
/// BURG_SOAK=1 imports 2 GiB (also from standard input).
@Suite struct ImportMemoryTests {
    static let soak = ProcessInfo.processInfo.environment["BURG_SOAK"] == "1"

    /// Writes `bytes` of NDJSON (lines of about 1 KiB) to `path`.
    static func writeNDJSON(_ path: FilePath, bytes: Int) throws {
        let filler = String(repeating: "lorem ipsum dolor sit amet ", count: 36)
        try AtomicFile.write(to: path) { writer in
            var written = 0
            var index = 0
            var buffer = ""
            while written < bytes {
                let line = "{\"code\":\"C\(index)\",\"qty\":\(index % 1000),\"notes\":\"\(filler)\(index)\"}\n"
                buffer += line
                written += line.utf8.count
                index += 1
                if buffer.utf8.count >= 1 << 20 {
                    try writer.write(Array(buffer.utf8))
                    buffer = ""
                }
            }
            try writer.write(Array(buffer.utf8))
        }
    }

    /// Runs `burg import` and returns its peak resident set size in KiB (VmHWM, sampled until it exits).
    static func peakRSS(importing file: String, into data: String, viaStandardInput: Bool = false) throws -> Int {
        let process = viaStandardInput
            // exec: the shell becomes burg, so the pid sampled is burg's.
            ? try ChildProcess(FilePath("/bin/sh"), ["-c", "exec '\(BuiltProducts.burg.string)' import parts - --data-dir '\(data)' < '\(file)'"])
            : try ChildProcess.burg("import", "parts", file, "--data-dir", data)
        var peak = 0
        while process.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kib = Int(line.split(separator: " ").dropFirst().first ?? "") {
                peak = max(peak, kib)
            }
            usleep(20_000)
        }
        #expect(try process.wait() == 0, "\(process.standardError)")
        return peak
    }

    @Test func importMemoryStaysFlatAsTheFileGrows() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        let definition = dir.path("parts.json")
        try AtomicFile.write(Array(#"{"name": "parts", "fields": [{"name": "code", "type": "text", "required": true}, {"name": "qty", "type": "number"}, {"name": "notes", "type": "text"}]}"#.utf8), to: definition)
        let create = try ChildProcess.burg("collections", "create", definition.string, "--data-dir", data)
        #expect(try create.wait() == 0, "\(create.standardError)")

        let small = dir.path("small.ndjson")
        let large = dir.path("large.ndjson")
        try Self.writeNDJSON(small, bytes: 8 << 20)
        try Self.writeNDJSON(large, bytes: Self.soak ? 2 << 30 : 64 << 20)
        let smallPeak = try Self.peakRSS(importing: small.string, into: data)
        let largePeak = try Self.peakRSS(importing: large.string, into: data, viaStandardInput: Self.soak)
        // 8× (or 256×) the input, and the peak grows by at most 16 MiB (SQLite's cache and allocator noise).
        #expect(smallPeak > 0 && largePeak - smallPeak < 16 * 1024, "peak RSS \(smallPeak) KiB for 8 MiB, \(largePeak) KiB for the large file")
    }
}
