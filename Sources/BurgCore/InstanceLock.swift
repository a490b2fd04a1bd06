import SystemPackage

/// The single-instance guard of a data directory: one `burg serve` (or another command that needs the
/// directory to itself, such as a restore) at a time.
///
/// Held as an exclusive ``FileLock`` on `<data dir>/burg.lock` for the life of the process; the kernel
/// releases it when the process ends, however it ends, so there is no stale-lock clean-up to do.
/// Commands that only read (or that coordinate through the database, like `burg db ...`) do not take
/// it; they may call ``currentHolder(dataDir:)`` to learn whether a server is running.
public final class InstanceLock: Sendable {
    /// The data directory, as the user named it (used in messages).
    public let dataDir: FilePath
    private let lock: FileLock

    /// `<data dir>/burg.lock`
    public static func lockFilePath(dataDir: FilePath) -> FilePath { dataDir.appending("burg.lock") }

    private init(dataDir: FilePath, lock: FileLock) {
        self.dataDir = dataDir
        self.lock = lock
    }

    /// Takes the data directory for this process, without waiting. Throws ``InstanceLockError`` with
    /// `.alreadyRunning` (naming the pid and start time of the holder) if another process has it.
    public static func acquire(
        dataDir: FilePath, options: FileLock.Options = FileLock.Options()
    ) throws(InstanceLockError) -> InstanceLock {
        let lock: FileLock
        do {
            lock = try FileLock(lockFilePath(dataDir: dataDir), options: options)
            try lock.tryLock(.exclusive)
        } catch {
            if error.code == .wouldBlock {
                throw InstanceLockError(.alreadyRunning, dataDir: dataDir, holder: error.holder)
            }
            throw InstanceLockError(.lockFailed, dataDir: dataDir, lockError: error)
        }
        return InstanceLock(dataDir: dataDir, lock: lock)
    }

    /// The process holding the data directory right now, or nil if none does. Asks the kernel without
    /// taking the lock (on Linux), so asking never makes a server starting at that moment refuse; never
    /// waits.
    public static func currentHolder(dataDir: FilePath) -> LockHolder? {
        guard let probe = try? FileLock(lockFilePath(dataDir: dataDir)) else { return nil }
        // Asked without taking the lock: a probe holding it even briefly made a `burg serve` starting at
        // that moment refuse with "already running".
        guard (try? probe.isHeldElsewhere(conflictingWith: .shared)) == true else { return nil }
        return probe.currentHolder()
    }

    /// Gives the data directory up (also happens when the process ends).
    public func release() {
        lock.unlock()
    }
}

/// Why ``InstanceLock/acquire(dataDir:options:)`` failed.
public struct InstanceLockError: CodedError {
    public enum Code: Sendable, CaseIterable { case alreadyRunning, lockFailed }
    public var code: Code
    public var dataDir: FilePath
    public var holder: LockHolder?
    public var lockError: LockError?

    public init(_ code: Code, dataDir: FilePath, holder: LockHolder? = nil, lockError: LockError? = nil) {
        self.code = code
        self.dataDir = dataDir
        self.holder = holder
        self.lockError = lockError
    }

    public var description: String {
        switch code {
        case .alreadyRunning:
            guard let holder else {
                return "Burg is already running on \(dataDir) (another process holds its lock); "
                    + "stop it or pass --data-dir to use another directory"
            }
            return "Burg is already running on \(dataDir) (pid \(holder.pid), since \(holder.since)); "
                + "stop it (kill \(holder.pid)) or pass --data-dir to use another directory"
        case .lockFailed:
            return lockError?.description ?? "cannot lock \(dataDir)"
        }
    }

    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .alreadyRunning: return ExitStatus.tempFail
        case .lockFailed: return ExitStatus.failure
        }
    }

    /// ``exitStatus(for:)``, refined by the lock's own error when taking it failed.
    public var exitCode: Int32 {
        switch code {
        case .alreadyRunning: return Self.exitStatus(for: code)
        case .lockFailed: return lockError?.exitCode ?? Self.exitStatus(for: code)
        }
    }
}
