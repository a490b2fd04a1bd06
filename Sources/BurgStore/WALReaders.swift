import BurgCore
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A process that holds a WAL read snapshot of the database: while it does, checkpoints cannot copy
/// frames past its snapshot and the WAL cannot be restarted, so it grows with every write.
public struct WALReader: Sendable, Equatable, Codable, CustomStringConvertible {
    public var pid: Int32
    /// Its command line, when readable ("burg-test-helper store-hold-snapshot ...").
    public var command: String?
    /// True for the process that asked.
    public var isThisProcess: Bool

    public var description: String {
        "pid \(pid)" + (command.map { " (\($0))" } ?? "") + (isThisProcess ? " [this process]" : "")
    }

    /// The processes holding WAL read marks on `shmPath`, from the kernel's lock table (Linux only;
    /// elsewhere, and when /proc/locks cannot be read, none).
    ///
    /// SQLite's unix VFS takes a POSIX read lock on byte 123 + i of the `-shm` file while a transaction
    /// reads through read mark i; marks 1...4 (bytes 124...127) pin a WAL snapshot, mark 0 reads the
    /// database file alone and pins nothing.
    public static func holding(shmPath: FilePath) -> [WALReader] {
        var status = stat()
        // Read to its end: Foundation's String(contentsOfFile:) takes one 4 KiB page of a /proc file
        // (its size says 0), so on a busy machine the readers past the first ~75 locks went unseen.
        guard shmPath.withPlatformString({ stat($0, &status) }) == 0,
              let bytes = try? AtomicFile.read("/proc/locks")
        else { return [] }
        let table = String(decoding: bytes, as: UTF8.self)
        let inode = UInt64(status.st_ino)
        var pids: [Int32] = []
        for line in table.split(separator: "\n") where !line.contains("->") {
            // "12: POSIX  ADVISORY  READ 4711 fd:01:1234567 124 124"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 8, fields[1] == "POSIX",
                  let pid = Int32(fields[4]),
                  let fileInode = fields[5].split(separator: ":").last.flatMap({ UInt64($0) }), fileInode == inode,
                  let start = Int(fields[6]), let end = Int(fields[7]) ?? (fields[7] == "EOF" ? Int.max : nil),
                  start <= 127, end >= 124
            else { continue }
            if !pids.contains(pid) { pids.append(pid) }
        }
        return pids.map { pid in
            WALReader(pid: pid, command: commandLine(of: pid), isThisProcess: pid == getpid())
        }
    }

    static func commandLine(of pid: Int32) -> String? {
        guard let data = try? AtomicFile.read(FilePath("/proc/\(pid)/cmdline")), !data.isEmpty else {
            return nil
        }
        var parts = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if let first = parts.first { parts[0] = String(first.split(separator: "/").last ?? Substring(first)) }
        return parts.joined(separator: " ")
    }
}
