import BurgCore
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Verify mode: writes every block of a file with a self-describing, checksummed content, flushes it,
/// reads it all back (direct I/O when possible) and checks each block.
///
/// Each block starts with a 32-byte header: magic, the block's own offset, the run's seed and an FNV-1a
/// checksum of the rest of the block. A block that comes back from the wrong place (misdirected write),
/// stale (lost write) or altered fails the check, and is named by its offset.
public enum Verifier {
    public struct Report: Codable, Sendable, Equatable {
        public var blocks: UInt64
        public var bytesWritten: UInt64
        public var bytesRead: UInt64
        /// Offsets of blocks whose content did not match (at most the first 16).
        public var badOffsets: [UInt64]
        public var mismatches: UInt64
    }

    static let magic: UInt64 = 0x4255_5247_5645_5249  // "BURGVERI"
    static let headerSize = 32

    /// Writes then verifies `file` (created by ``BenchTarget/makeTestFile(_:size:)``). `afterWrite` runs
    /// between the phases (tests use it to damage the file). Throws `.verifyFailed` naming the first bad
    /// offsets when any block differs.
    public static func run(
        file: FilePath, size: UInt64, blockSize: Int, direct: Bool,
        cancellation: BenchCancellation = BenchCancellation(),
        afterWrite: () throws -> Void = {}
    ) throws -> Report {
        guard blockSize >= 4096, blockSize % 4096 == 0 else {
            throw BenchError(.invalidSettings, subject: "verify", detail: "block size must be a multiple of 4096")
        }
        let blocks = size / UInt64(blockSize)
        guard blocks > 0 else { throw BenchError(.invalidSettings, subject: "verify", detail: "file smaller than one block") }
        let seed = SystemIO.now() | 1
        let buffer = SystemIO.randomBuffer(blockSize, seed: seed)
        defer { free(buffer) }
        var report = Report(blocks: blocks, bytesWritten: 0, bytesRead: 0, badOffsets: [], mismatches: 0)

        let writer = try SystemIO.openFile(file, direct: direct)
        for block in 0..<blocks {
            if cancellation.isCancelled { close(writer); throw BenchError(.interrupted, subject: file.string) }
            let offset = block * UInt64(blockSize)
            fill(buffer, blockSize, offset: offset, seed: seed)
            guard pwrite(writer, buffer, blockSize, off_t(offset)) == blockSize else {
                let error = errno
                close(writer)
                throw SystemIO.ioError(file, "pwrite", error)
            }
            report.bytesWritten += UInt64(blockSize)
        }
        guard fsync(writer) == 0 else { let error = errno; close(writer); throw SystemIO.ioError(file, "fsync", error) }
        #if os(Linux)
        _ = posix_fadvise(writer, 0, 0, POSIX_FADV_DONTNEED)
        #endif
        close(writer)

        try afterWrite()

        let reader = try SystemIO.openFile(file, direct: direct)
        defer { close(reader) }
        for block in 0..<blocks {
            if cancellation.isCancelled { throw BenchError(.interrupted, subject: file.string) }
            let offset = block * UInt64(blockSize)
            guard pread(reader, buffer, blockSize, off_t(offset)) == blockSize else {
                throw SystemIO.ioError(file, "pread", errno)
            }
            report.bytesRead += UInt64(blockSize)
            if !check(buffer, blockSize, offset: offset, seed: seed) {
                report.mismatches += 1
                if report.badOffsets.count < 16 { report.badOffsets.append(offset) }
            }
        }
        if report.mismatches > 0 {
            throw BenchError(
                .verifyFailed, subject: file.string,
                detail: "\(report.mismatches) of \(blocks) blocks differ, first at offsets "
                    + report.badOffsets.map(String.init).joined(separator: ", "))
        }
        return report
    }

    private static func fill(_ buffer: UnsafeMutableRawPointer, _ size: Int, offset: UInt64, seed: UInt64) {
        SystemIO.fillRandom(buffer + headerSize, size - headerSize, seed: seed ^ (offset &* 0x9E37_79B9_7F4A_7C15))
        let words = buffer.bindMemory(to: UInt64.self, capacity: 4)
        words[0] = magic
        words[1] = offset
        words[2] = seed
        words[3] = checksum(buffer + headerSize, size - headerSize)
    }

    private static func check(_ buffer: UnsafeMutableRawPointer, _ size: Int, offset: UInt64, seed: UInt64) -> Bool {
        let words = buffer.bindMemory(to: UInt64.self, capacity: 4)
        return words[0] == magic && words[1] == offset && words[2] == seed
            && words[3] == checksum(buffer + headerSize, size - headerSize)
    }

    /// FNV-1a over 64-bit words: cheap, and any changed byte changes it.
    static func checksum(_ pointer: UnsafeRawPointer, _ size: Int) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        let words = pointer.bindMemory(to: UInt64.self, capacity: size / 8)
        for index in 0..<(size / 8) {
            hash = (hash ^ words[index]) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
