import ArgumentParser
import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Prints a line and flushes it, so that a waiting test sees it immediately.
func say(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
}

extension LockMode: ExpressibleByArgument {}

/// Takes a lock and holds it; optionally opens and closes a second descriptor of the lock file first.
struct HoldLock: ParsableCommand {
    @Argument var path: String
    @Option var mode: LockMode = .exclusive
    @Option var seconds: Double = 3600
    @Flag(help: "Open and close another descriptor of the lock file while holding it.")
    var closeOtherDescriptor = false

    func run() throws {
        let lock = try FileLock(FilePath(path))
        try lock.lockBlocking(mode)
        say("locked")
        if closeOtherDescriptor {
            let other = open(path, O_RDWR)
            close(other)
            say("closed-other")
        }
        usleep(UInt32(seconds * 1_000_000))
        lock.unlock()
        say("released")
    }
}

/// Takes a ``LockSet`` `rounds` times, holding it `hold` seconds each round; prints "round N" while it
/// holds the set, then "done"; on failure prints the error and exits with its code.
struct HoldLockSet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hold-lock-set")
    @Argument var paths: [String]
    @Option var rounds = 1
    @Option(help: "Seconds to hold the whole set each round.") var hold: Double = 0
    @Option(help: "Seconds to wait for the whole set before giving up (default: no limit).") var timeout: Double?

    func run() throws {
        let set = try LockSet(paths.map { FilePath($0) })
        for round in 1...max(1, rounds) {
            do {
                try set.lockBlocking(.exclusive, timeout: timeout.map { .milliseconds(Int($0 * 1000)) })
            } catch {
                say("error: \(error)")
                throw ExitCode(error.exitCode)
            }
            say("round \(round)")
            if hold > 0 { usleep(UInt32(hold * 1_000_000)) }
            set.unlock()
        }
        say("done")
    }
}

/// Tries a lock once (or with a timeout) and prints "acquired" or the error; exits with the error's code.
struct TryLock: ParsableCommand {
    @Argument var path: String
    @Option var mode: LockMode = .exclusive
    @Option(help: "Wait this many seconds instead of failing at once.") var timeout: Double?

    func run() throws {
        let lock = try FileLock(FilePath(path))
        do {
            if let timeout {
                try lock.lockBlocking(mode, timeout: .milliseconds(Int(timeout * 1000)))
            } else {
                try lock.tryLock(mode)
            }
            say("acquired")
        } catch {
            say("error: \(error)")
            throw ExitCode(error.exitCode)
        }
    }
}

/// `count` times: AtomicFile.update(path) { n in n + 1 }.
struct IncrementCounter: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "increment")
    @Argument var path: String
    @Option var count: Int = 500

    func run() throws {
        for _ in 0..<count {
            try AtomicFile.update(FilePath(path)) { old in
                let value = old.flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
                return Array(String(value + 1).utf8)
            }
        }
        say("done")
    }
}

/// Writes checksummed files of `megabytes` MB through AtomicFile's streaming API, forever (until killed).
struct WriteLoop: ParsableCommand {
    @Argument var path: String
    @Option var megabytes: Int = 4
    @Option var start: UInt64 = 1

    func run() throws {
        var sequence = start
        say("ready")
        while true {
            try AtomicFile.write(to: FilePath(path)) { writer in
                try ChecksummedContent.generate(sequence: sequence, size: megabytes << 20, chunk: 256 << 10) {
                    try writer.write($0)
                }
            }
            say("wrote \(sequence)")
            sequence += 1
        }
    }
}

/// One AtomicFile.write of `bytes` bytes; prints "ok" or the error, exits with the error's code.
struct AtomicWriteOnce: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "atomic-write")
    @Argument var path: String
    @Option var bytes: Int = 4096

    func run() throws {
        do {
            try AtomicFile.write([UInt8](repeating: 0x42, count: bytes), to: FilePath(path))
            say("ok")
        } catch {
            say("error: \(error)")
            throw ExitCode(error.exitCode)
        }
    }
}

/// Streams one checksummed file of `megabytes` MB through AtomicFile, then prints its peak resident size (KiB).
struct WriteLarge: ParsableCommand {
    @Argument var path: String
    @Option var megabytes: Int = 128

    func run() throws {
        try AtomicFile.write(to: FilePath(path)) { writer in
            try ChecksummedContent.generate(sequence: 1, size: megabytes << 20) { try writer.write($0) }
        }
        // VmHWM is the peak resident size of this program's own address space. (getrusage's ru_maxrss
        // would also count the parent's pages that a fork-then-exec child carried before exec.)
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }?
            .split(separator: " ").dropFirst().first.map(String.init) ?? "-1"
        say("maxrss-kb \(peak)")
    }
}

/// Measures, in a process of its own (so that other tests' work does not count), how long a timed or
/// cancelled wait for a held lock takes and how much CPU it uses. Prints
/// `outcome <code> elapsed-ms <wall> cpu-ms <cpu>`; for `--cancel-after`, elapsed counts from the cancel.
struct LockTiming: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lock-timing")
    @Argument var path: String
    @Option var timeout: Double = 0.3
    @Flag(help: "Use the blocking API instead of the async one.") var blocking = false
    @Option(help: "Wait without timeout and cancel the task after this many seconds.") var cancelAfter: Double?

    func run() async throws {
        let lock = try FileLock(FilePath(path))
        let cpuBefore = cpuSeconds()
        var started = ContinuousClock.now
        var outcome = "acquired"
        do {
            if let cancelAfter {
                let task = Task { try await lock.lock(.exclusive) }
                try await Task.sleep(for: .milliseconds(Int(cancelAfter * 1000)))
                started = ContinuousClock.now
                task.cancel()
                try await task.value
            } else if blocking {
                try blockingLock(lock, timeout: .milliseconds(Int(timeout * 1000)))
            } else {
                try await lock.lock(.exclusive, timeout: .milliseconds(Int(timeout * 1000)))
            }
        } catch let error as LockError {
            outcome = "\(error.code)"
        }
        let elapsed = ContinuousClock.now - started
        let cpu = cpuSeconds() - cpuBefore
        say("outcome \(outcome) elapsed-ms \(Int(elapsed.seconds * 1000)) cpu-ms \(Int(cpu * 1000))")
    }
}

/// The blocking API, called from a synchronous context as it is meant to be.
func blockingLock(_ lock: FileLock, timeout: Duration) throws {
    try lock.lockBlocking(.exclusive, timeout: timeout)
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// Writes `count` numbered lines of `width` bytes through a RotatingLogFile in `directory` (one
/// rotation every few lines with a small `--max-bytes`); prints `failed <n>`, the writes it dropped.
struct LogLines: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log-lines")
    @Argument var directory: String
    @Option var count: Int = 1000
    @Option var width: Int = 100
    @Option var maxBytes: Int = 4096
    @Option var maxFiles: Int = 4

    func run() throws {
        let log = try RotatingLogFile(directory: FilePath(directory), maxBytes: maxBytes, maxFiles: maxFiles)
        for number in 0..<count {
            let label = "line \(number) "
            log.write(label + String(repeating: "x", count: max(0, width - label.utf8.count)))
        }
        say("failed \(log.failedWrites)")
    }
}
