import Foundation
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A cross-process lock on a dedicated lock file (`<name>.lock` beside what it protects).
///
/// Guarantees:
/// - **Exclusion.** An exclusive holder excludes every other holder; shared holders coexist. This holds
///   between processes *and* between two `FileLock` instances in one process (two tasks or threads
///   exclude each other exactly like two processes do): on Linux each instance owns its own
///   open-file-description lock (`F_OFD_SETLK`), on Darwin its own `flock`.
/// - **No accidental release.** Closing some other descriptor of the lock file (the classic POSIX
///   `fcntl` trap) does not release the lock. Only ``unlock()``, deinitialisation, or the death of the
///   process does; the kernel releases the lock of a killed process at once.
/// - **Lock files are never deleted**, so two processes can never lock two different inodes of the same
///   name (the unlink race of portalocker and py-filelock).
/// - **Who holds it.** After locking, the holder writes its pid, command and time into the lock file;
///   ``LockError`` names that holder. The record is information only; the kernel lock is the truth.
/// - **Async without blocking the pool.** ``lock(_:timeout:)`` first tries without waiting; only if the
///   lock is taken does it wait, on a dedicated thread, so Swift's cooperative thread pool never blocks.
///   Waiting does not spin: the thread sleeps in the kernel until the lock is free, the timeout passes
///   (answered within a few milliseconds), or the task is cancelled.
///
/// **Not reentrant.** An instance is one owner holding at most one lock: locking an instance that is
/// already held (or being acquired) throws ``LockError/Code/alreadyHeld`` instead of deadlocking or
/// silently converting the lock.
///
/// **No atomic upgrade.** Shared → exclusive means ``unlock()`` then ``lock(_:timeout:)``: another process
/// may take the lock in between, so re-read whatever was read under the shared lock. (Converting in place
/// could deadlock two upgraders, which OFD locks do not detect.)
///
/// **Interrupting a wait** uses `SIGURG` delivered to the waiting thread; the first timed or cancellable
/// wait installs a no-op `SIGURG` handler (SIGURG's default action is to be ignored, so nothing else changes).
public final class FileLock: Sendable {
    public struct Options: Sendable {
        /// Allow lock files on NFS, SMB/CIFS and other network file systems. Off by default: their locks
        /// do not protect against a second machine.
        public var allowNetworkFileSystem: Bool = false
        /// Permissions of a newly created lock file.
        public var permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
        /// Refuse a lock path that is a symbolic link (`O_NOFOLLOW`: `.cannotOpen` with `ELOOP`), for lock
        /// files in directories others may write, where a planted link would point the lock (and its
        /// holder record) at another file.
        public var refuseSymbolicLink: Bool = false
        public init() {}
    }

    /// The lock file.
    public let path: FilePath
    private let descriptor: Int32
    private let state = Mutex<State>(.unlocked)
    /// This process's holder records, one per mode, built once per process; only the time is filled in
    /// per acquisition. (pid and command are the process's own: a fork without exec is not supported.)
    private static let sharedRecord = LockHolder.template(pid: getpid(), command: ProcessIdentity.command, mode: .shared)
    private static let exclusiveRecord = LockHolder.template(
        pid: getpid(), command: ProcessIdentity.command, mode: .exclusive)

    private enum State: Sendable { case unlocked, acquiring, held(LockMode) }

    /// Opens (creating if needed) the lock file at exactly `path`. Throws ``LockError`` with `.cannotOpen`
    /// for a missing directory, missing permission or read-only file system, and `.networkFileSystem` on a
    /// network file system unless allowed.
    public init(_ path: FilePath, options: Options = Options()) throws(LockError) {
        self.path = path
        let directory = path.removingLastComponent()
        if !options.allowNetworkFileSystem,
           let info = try? FileSystemInfo.of(directory.isEmpty ? FilePath(".") : directory), info.isNetwork
        {
            throw LockError(.networkFileSystem, path: path, fileSystem: info.typeName)
        }
        let fd = path.withPlatformString { name in
            retryingOnInterrupt {
                open(name, O_RDWR | O_CREAT | O_CLOEXEC | (options.refuseSymbolicLink ? O_NOFOLLOW : 0), options.permissions.rawValue)
            }
        }
        guard fd >= 0 else {
            throw LockError(.cannotOpen, path: path, underlying: .current("open"))
        }
        var status = stat()
        if fstat(fd, &status) == 0, (status.st_mode & S_IFMT) != S_IFREG {
            close(fd)
            throw LockError(.cannotOpen, path: path, underlying: SystemError(call: "open", errno: EISDIR))
        }
        self.descriptor = fd
    }

    /// The lock file for `target`: `<target>.lock` in the same directory.
    public static func sidecarPath(for target: FilePath) -> FilePath {
        FilePath(target.string + ".lock")
    }

    /// A lock on the sidecar file of `target` (see ``sidecarPath(for:)``).
    public convenience init(guarding target: FilePath, options: Options = Options()) throws(LockError) {
        try self.init(Self.sidecarPath(for: target), options: options)
    }

    deinit {
        // Closing the (only) descriptor of this open file description releases its lock.
        close(descriptor)
    }

    /// The mode this instance holds, or nil.
    public var heldMode: LockMode? {
        state.withLock { if case .held(let mode) = $0 { mode } else { nil } }
    }

    /// Takes the lock without waiting; throws `.wouldBlock` (naming the holder) if it is taken.
    public func tryLock(_ mode: LockMode) throws(LockError) {
        try begin()
        switch LockPrimitive.set(descriptor, mode, wait: false) {
        case .acquired:
            finish(mode)
        case .busy:
            abandon()
            throw LockError(.wouldBlock, path: path, holder: currentHolder())
        case .failed(let error):
            abandon()
            throw LockError(.system, path: path, underlying: error)
        }
    }

    /// Takes the lock, waiting at most `timeout` (nil: as long as it takes). Never blocks the cooperative
    /// thread pool. Throws `.timedOut` (naming the holder) or `.cancelled` if the task is cancelled.
    public func lock(_ mode: LockMode, timeout: Duration? = nil) async throws(LockError) {
        try begin()
        switch LockPrimitive.set(descriptor, mode, wait: false) {
        case .acquired:
            finish(mode)
            return
        case .failed(let error):
            abandon()
            throw LockError(.system, path: path, underlying: error)
        case .busy:
            break
        }
        let waiter = LockWaiter(deadline: timeout.map { ContinuousClock.now + $0 }, interruptible: true)
        let started = ContinuousClock.now
        let result: Result<Void, LockError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let descriptor = self.descriptor
                Thread.detachNewThread {
                    continuation.resume(returning: waiter.wait(descriptor, mode))
                }
            }
        } onCancel: {
            waiter.interrupt(.cancelled)
        }
        try complete(result, mode, waitedSince: started)
    }

    /// Like ``lock(_:timeout:)`` but blocks the calling thread. For synchronous code (CLI commands,
    /// helper threads); async code uses ``lock(_:timeout:)``.
    @available(*, noasync, message: "blocks the thread; use lock(_:timeout:) in async code")
    public func lockBlocking(_ mode: LockMode, timeout: Duration? = nil) throws(LockError) {
        try begin()
        let started = ContinuousClock.now
        let waiter = LockWaiter(deadline: timeout.map { started + $0 }, interruptible: timeout != nil)
        try complete(waiter.wait(descriptor, mode), mode, waitedSince: started)
    }

    /// Releases the lock. Does nothing if this instance holds none.
    public func unlock() {
        state.withLock { state in
            guard case .held = state else { return }
            _ = LockPrimitive.release(descriptor)
            state = .unlocked
        }
    }

    /// Runs `body` holding the lock, and releases it afterwards whatever happens.
    public func withLock<R>(
        _ mode: LockMode, timeout: Duration? = nil, _ body: () async throws -> R
    ) async throws -> R {
        try await lock(mode, timeout: timeout)
        defer { unlock() }
        return try await body()
    }

    /// Runs `body` holding the lock (blocking the thread while waiting), and releases it afterwards.
    @available(*, noasync, message: "blocks the thread; use withLock in async code")
    public func withLockBlocking<R>(
        _ mode: LockMode, timeout: Duration? = nil, _ body: () throws -> R
    ) throws -> R {
        try lockBlocking(mode, timeout: timeout)
        defer { unlock() }
        return try body()
    }

    /// Whether a lock `mode` would conflict with is held through another open file description (another
    /// process, or another `FileLock` in this one). Asked without locking where the system allows it
    /// (Linux), so a concurrent `tryLock` elsewhere never fails because of the question; elsewhere it
    /// briefly takes and drops the lock. Throws what the system reported.
    public func isHeldElsewhere(conflictingWith mode: LockMode) throws(LockError) -> Bool {
        if let answer = LockPrimitive.isHeldElsewhere(descriptor, conflictingWith: mode) { return answer }
        do {
            try tryLock(mode)
            unlock()
            return false
        } catch where error.code == .wouldBlock {
            return true
        }
    }

    /// The holder recorded in the lock file, if any (it may be stale: see ``LockHolder``).
    public func currentHolder() -> LockHolder? {
        var buffer = [UInt8](repeating: 0, count: LockHolder.recordSize)
        let count = buffer.withUnsafeMutableBytes { raw in
            retryingOnInterrupt { pread(descriptor, raw.baseAddress, raw.count, 0) }
        }
        guard count > 0 else { return nil }
        return LockHolder.parse(buffer.prefix(count))
    }

    // MARK: - State transitions

    private func begin() throws(LockError) {
        let ok = state.withLock { state -> Bool in
            guard case .unlocked = state else { return false }
            state = .acquiring
            return true
        }
        if !ok { throw LockError(.alreadyHeld, path: path) }
    }

    private func finish(_ mode: LockMode) {
        writeRecord(mode)
        state.withLock { $0 = .held(mode) }
    }

    private func abandon() {
        state.withLock { $0 = .unlocked }
    }

    private func complete(
        _ result: Result<Void, LockError>, _ mode: LockMode, waitedSince started: ContinuousClock.Instant
    ) throws(LockError) {
        switch result {
        case .success:
            finish(mode)
        case .failure(var error):
            abandon()
            error.path = path
            if error.code == .timedOut || error.code == .wouldBlock {
                error.holder = currentHolder()
                error.waited = ContinuousClock.now - started
            }
            throw error
        }
    }

    /// Records this process as the holder. Best effort: a failure here (disk full) does not undo the lock.
    private func writeRecord(_ mode: LockMode) {
        let record = mode == .exclusive ? Self.exclusiveRecord : Self.sharedRecord
        // On the stack: the uncontended lock path allocates nothing.
        withUnsafeTemporaryAllocation(byteCount: record.bytes.count, alignment: 1) { buffer in
            record.bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            LockHolder.fillTime(currentUnixMilliseconds(), into: buffer, at: record.timeOffset)
            _ = retryingOnInterrupt { pwrite(descriptor, buffer.baseAddress, buffer.count, 0) }
        }
    }
}
