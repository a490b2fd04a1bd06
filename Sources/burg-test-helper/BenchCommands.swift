import ArgumentParser
import BurgBench
import Foundation
import SystemPackage

/// Runs a byte-limited native workload on an existing file and prints what the engine counted beside
/// what the kernel counted for this process (/proc/self/io: bytes passed to read/write calls and the
/// number of those calls), as `counted_read=N counted_write=N reads=N writes=N rchar=N wchar=N syscr=N syscw=N`.
/// The kernel's figures are deltas around the run, corrected for the read of /proc/self/io itself.
struct BenchCount: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-count")
    @Option var file: String
    @Option var blockSize: Int = 4096
    @Option var depth: Int = 4
    @Option var readPercent: Int = 50
    @Option var limit: UInt64
    @Option var pattern: Workload.Pattern = .random

    func run() throws {
        let size = UInt64((try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.uint64Value ?? 0)
        let workload = Workload(
            name: "count", pattern: pattern, readPercent: readPercent, blockSize: blockSize, queueDepth: depth,
            fileSize: size, duration: 60, rampUp: 0, byteLimit: limit)
        let (before, beforeLength) = try Self.processIO()
        let result = try NativeEngine.run(workload, file: FilePath(file), direct: true, cached: false)
        let (after, _) = try Self.processIO()
        // The first read of /proc/self/io is itself a read(2) counted in rchar and syscr; the second is not
        // (its counters were captured before its own bytes were added).
        let rchar = after["rchar"]! - before["rchar"]! - UInt64(beforeLength)
        let syscr = after["syscr"]! - before["syscr"]! - Self.readCalls
        say("counted_read=\(result.readBytes) counted_write=\(result.writeBytes) reads=\(result.readIOs) "
            + "writes=\(result.writeIOs) rchar=\(rchar) wchar=\(after["wchar"]! - before["wchar"]!) "
            + "syscr=\(syscr) syscw=\(after["syscw"]! - before["syscw"]!)")
    }

    /// read(2) calls one ``processIO()`` makes: one that returns the text, one that returns 0 (EOF).
    static let readCalls: UInt64 = 2

    static func processIO() throws -> ([String: UInt64], Int) {
        let fd = open("/proc/self/io", O_RDONLY)
        guard fd >= 0 else { throw ValidationError("cannot open /proc/self/io") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var length = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + length, $0.count - length) }
            if count <= 0 { break }
            length += count
        }
        var fields: [String: UInt64] = [:]
        for line in String(decoding: buffer.prefix(length), as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":")
            if parts.count == 2, let value = UInt64(parts[1].trimmingCharacters(in: .whitespaces)) {
                fields[String(parts[0])] = value
            }
        }
        return (fields, length)
    }
}

extension Workload.Pattern: ExpressibleByArgument {}
