#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Who holds (or last held) a lock: the record a holder writes into the lock file after locking.
///
/// The record is information for error messages, never the truth about the lock: only the kernel knows
/// whether a lock is held. A record whose process is gone (``isAlive`` false) is *stale*: the lock is then
/// held by another process that has not written its record yet, or by a child that inherited the lock.
public struct LockHolder: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    public var command: String
    public var mode: LockMode
    /// Milliseconds since 1970-01-01 UTC when the holder took the lock.
    public var sinceMilliseconds: Int64
    /// Whether a process with this pid exists now (checked when the record was read).
    public var isAlive: Bool

    /// "2026-11-23 21:30:05 UTC"
    public var since: String { formatUTC(milliseconds: sinceMilliseconds) }

    public var description: String {
        let base = "pid \(pid) (\(command)), \(mode) since \(since)"
        return isAlive ? base : base + "; that process is gone, so the record is stale and the lock is held by another process"
    }

    /// Size of the record in the lock file. Fixed, so that a new holder overwrites it in one `pwrite`
    /// without truncating the file (a cheaper and crash-safe way to replace it).
    static let recordSize = 256
    static let magic = "burg-lock 1"

    /// Width of the zero-padded millisecond timestamp (enough until the year 2286).
    static let timeDigits = 13

    /// The bytes a holder writes, one line padded with spaces to ``recordSize``, with the time left as
    /// zeros at `timeOffset`: the holder builds this once and fills in the time at each acquisition.
    static func template(pid: Int32, command: String, mode: LockMode) -> (bytes: [UInt8], timeOffset: Int) {
        let head = Array("\(magic) pid=\(pid) mode=\(mode) since=".utf8)
        var line = head + [UInt8](repeating: UInt8(ascii: "0"), count: timeDigits) + Array(" command=".utf8)
        let room = recordSize - line.count - 1
        line += command.utf8.prefix(max(0, room)).map { $0 == UInt8(ascii: "\n") ? UInt8(ascii: " ") : $0 }
        line.append(UInt8(ascii: "\n"))
        line += [UInt8](repeating: UInt8(ascii: " "), count: recordSize - line.count)
        return (line, head.count)
    }

    /// Writes `milliseconds` as ``timeDigits`` zero-padded decimal digits into `buffer` at `offset`.
    static func fillTime(_ milliseconds: Int64, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        var value = max(0, milliseconds)
        for index in stride(from: offset + timeDigits - 1, through: offset, by: -1) {
            buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
    }

    /// Parses a record; nil when the bytes are not one (an empty new lock file, another program's data).
    static func parse(_ bytes: some Collection<UInt8>) -> LockHolder? {
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: bytes[..<newline], as: UTF8.self)
        guard line.hasPrefix(magic + " "), let commandRange = line.range(of: " command=") else { return nil }
        var fields: [Substring: Substring] = [:]
        for pair in line[..<commandRange.lowerBound].split(separator: " ") {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            fields[pair[..<eq]] = pair[pair.index(after: eq)...]
        }
        guard let pidText = fields["pid"], let pid = Int32(pidText),
              let modeText = fields["mode"], let mode = LockMode(rawValue: String(modeText)),
              let sinceText = fields["since"], let since = Int64(sinceText)
        else { return nil }
        return LockHolder(
            pid: pid,
            command: String(line[commandRange.upperBound...]),
            mode: mode,
            sinceMilliseconds: since,
            isAlive: ProcessIdentity.isAlive(pid)
        )
    }
}

/// Facts about this process that Burg records in lock files and temp-file names.
public enum ProcessIdentity {
    /// This process's id.
    public static var pid: Int32 { getpid() }

    /// A short, human-readable command line: "burg serve --data-dir ./d" (program name without its directory).
    public static let command: String = {
        var arguments = CommandLine.arguments
        guard !arguments.isEmpty else { return "?" }
        arguments[0] = String(arguments[0].split(separator: "/").last ?? Substring(arguments[0]))
        return arguments.joined(separator: " ")
    }()

    /// Whether a process with this pid exists (it may belong to another user: EPERM still means alive).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) == 0 { return true }
        return errno == EPERM
    }
}

/// Wall-clock milliseconds since 1970, cheap enough for every lock acquisition.
func currentUnixMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

/// "2026-11-23 21:30:05 UTC" for a Unix time in milliseconds.
public func formatUTC(milliseconds: Int64) -> String {
    var seconds = time_t(milliseconds / 1000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
        + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
}
