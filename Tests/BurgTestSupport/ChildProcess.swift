import BurgCore
import Foundation
import SystemPackage

/// A real child process with its output captured line by line, for multi-process and crash tests.
///
/// Started with ``ProcessSpawn`` (not Foundation's `Process`, whose `run()` can crash the test process
/// on Linux).
///
/// `@unchecked Sendable`: the mutable output buffers and the exit status are touched only while
/// `condition` is locked; `pid` is set before any other thread sees the value and only read afterwards.
public final class ChildProcess: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public let pid: Int32
    /// The exit status once the child has been reaped (exit code, or 128 + signal).
    private var exitStatus: Int32?
    private let condition = NSCondition()
    private var stdoutLines: [String] = []
    /// Raw bytes: a read can end inside a multi-byte character, so text is decoded only from whole
    /// lines (stdout) or from everything received so far (stderr).
    private var stderrBytes = Data()
    private var stdoutPartial = Data()
    private var stdoutClosed = false
    private var stderrClosed = false
    public let commandLine: String

    /// Starts `executable` with `arguments`. Output is collected until the process ends.
    public init(_ executable: FilePath, _ arguments: [String], environment: [String: String]? = nil) throws {
        commandLine = ([executable.string] + arguments).joined(separator: " ")
        let merged = environment.map { ProcessInfo.processInfo.environment.merging($0) { $1 } }
        let out = Pipe()
        let err = Pipe()
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        pid = try ProcessSpawn.start(
            executable.string, arguments, environment: merged, stdin: null,
            stdout: out.fileHandleForWriting.fileDescriptor, stderr: err.fileHandleForWriting.fileDescriptor)
        // The child has its own copies; without closing ours the readers would never see the end.
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
        Thread.detachNewThread { [self] in pump(out.fileHandleForReading, isStdout: true) }
        Thread.detachNewThread { [self] in pump(err.fileHandleForReading, isStdout: false) }
    }

    /// Starts the `burg-test-helper` executable.
    public static func helper(_ arguments: String...) throws -> ChildProcess {
        try ChildProcess(BuiltProducts.testHelper, arguments)
    }

    /// Starts the `burg` executable.
    public static func burg(_ arguments: String...) throws -> ChildProcess {
        try ChildProcess(BuiltProducts.burg, arguments)
    }

    public var isRunning: Bool {
        condition.lock(); defer { condition.unlock() }
        if exitStatus == nil { exitStatus = ProcessSpawn.exit(of: pid, wait: false)?.status }
        return exitStatus == nil
    }

    private func pump(_ handle: FileHandle, isStdout: Bool) {
        while true {
            let data = handle.availableData
            condition.lock()
            defer { condition.broadcast(); condition.unlock() }
            if data.isEmpty {
                if isStdout {
                    if !stdoutPartial.isEmpty {
                        stdoutLines.append(String(decoding: stdoutPartial, as: UTF8.self))
                        stdoutPartial = Data()
                    }
                    stdoutClosed = true
                } else {
                    stderrClosed = true
                }
                return
            }
            if isStdout {
                stdoutPartial.append(data)
                while let newline = stdoutPartial.firstIndex(of: UInt8(ascii: "\n")) {
                    stdoutLines.append(String(decoding: stdoutPartial[..<newline], as: UTF8.self))
                    stdoutPartial = Data(stdoutPartial[stdoutPartial.index(after: newline)...])
                }
            } else {
                stderrBytes.append(data)
            }
        }
    }

    /// Stdout lines received so far.
    public var lines: [String] {
        condition.lock(); defer { condition.unlock() }
        return stdoutLines
    }

    /// Stderr received so far.
    public var standardError: String {
        condition.lock(); defer { condition.unlock() }
        return String(decoding: stderrBytes, as: UTF8.self)
    }

    /// Waits until a stdout line satisfies `predicate`; returns it. Throws if the process closes its
    /// output first or the timeout passes.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func waitForLine(
        timeout: Duration = .seconds(30), where predicate: (String) -> Bool
    ) throws -> String {
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        var checked = 0
        while true {
            while checked < stdoutLines.count {
                if predicate(stdoutLines[checked]) { return stdoutLines[checked] }
                checked += 1
            }
            if stdoutClosed {
                throw Failure(description: "\(commandLine) ended its output without the expected line; "
                    + "stdout: \(stdoutLines.suffix(5)), stderr: \(String(decoding: stderrBytes.suffix(2000), as: UTF8.self))")
            }
            if !condition.wait(until: deadline) {
                throw Failure(description: "timed out waiting for a line from \(commandLine); "
                    + "stdout: \(stdoutLines.suffix(5)), stderr: \(String(decoding: stderrBytes.suffix(2000), as: UTF8.self))")
            }
        }
    }

    /// Waits for the exact line `text`.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func waitForLine(_ text: String, timeout: Duration = .seconds(30)) throws {
        try waitForLine(timeout: timeout) { $0 == text }
    }

    /// Sends a signal (SIGKILL for crash tests, SIGTERM for graceful stops).
    public func signal(_ number: Int32) {
        condition.lock(); defer { condition.unlock() }
        // Once reaped, the pid may belong to another process.
        if exitStatus == nil { kill(pid, number) }
    }

    /// Waits for the process to end and its output to be drained; returns its exit status (or 128+signal).
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func wait(timeout: Duration = .seconds(60)) throws -> Int32 {
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        while isRunning {
            if Date() > deadline {
                signal(SIGKILL)
                throw Failure(description: "\(commandLine) did not end within \(timeout)")
            }
            usleep(2_000)
        }
        condition.lock()
        defer { condition.unlock() }
        while !(stdoutClosed && stderrClosed) {
            if !condition.wait(until: Date(timeIntervalSinceNow: 5)) { break }
        }
        return exitStatus ?? 1
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            _ = ProcessSpawn.exit(of: pid, wait: true)
        }
    }

    // MARK: The same waits for async tests, on a thread of their own (not a cooperative one).

    @discardableResult
    public func waitForLine(
        timeout: Duration = .seconds(30), where predicate: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        try await onOwnThread { try self.waitForLine(timeout: timeout, where: predicate) }
    }

    public func waitForLine(_ text: String, timeout: Duration = .seconds(30)) async throws {
        try await onOwnThread { try self.waitForLine(text, timeout: timeout) }
    }

    @discardableResult
    public func wait(timeout: Duration = .seconds(60)) async throws -> Int32 {
        try await onOwnThread { try self.wait(timeout: timeout) }
    }

}



/// Runs blocking test work (a wait for a child process) on a new thread, so an async test never holds
/// one of Swift's cooperative threads while it waits.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
