import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a ``FileLock`` could not be opened or taken. The description names the lock file, the holder when
/// known, and what to do.
public struct LockError: CodedError, Equatable {
    public enum Code: Sendable, CaseIterable {
        /// `tryLock`: someone else holds a conflicting lock right now.
        case wouldBlock
        /// A timed `lock` waited its whole timeout.
        case timedOut
        /// The waiting task was cancelled.
        case cancelled
        /// This `FileLock` instance is already held or being acquired. A `FileLock` is one owner; use one
        /// instance per task or thread that needs the lock.
        case alreadyHeld
        /// The lock file lives on a network file system, whose locks cannot be trusted.
        case networkFileSystem
        /// The lock file could not be opened or created (missing directory, permission, read-only, ...).
        case cannotOpen
        /// The lock call itself failed.
        case system
    }

    public var code: Code
    /// The lock file.
    public var path: FilePath
    /// The process recorded as holding the lock, when known.
    public var holder: LockHolder?
    /// How long the caller waited before giving up.
    public var waited: Duration?
    /// The failed system call, for `.cannotOpen` and `.system`.
    public var underlying: SystemError?
    /// The file system type, for `.networkFileSystem`.
    public var fileSystem: String?

    public init(
        _ code: Code, path: FilePath, holder: LockHolder? = nil, waited: Duration? = nil,
        underlying: SystemError? = nil, fileSystem: String? = nil
    ) {
        self.code = code
        self.path = path
        self.holder = holder
        self.waited = waited
        self.underlying = underlying
        self.fileSystem = fileSystem
    }

    private var heldBy: String {
        guard let holder else { return "held by another process (it has not recorded itself)" }
        return "held by \(holder)"
    }

    public var description: String {
        switch code {
        case .wouldBlock:
            return "lock on \(path) is \(heldBy); try again when it is released"
        case .timedOut:
            let seconds = waited.map { " after \(formatDuration($0))" } ?? ""
            return "timed out\(seconds) waiting for lock on \(path), \(heldBy); "
                + "wait for that process to finish or stop it"
        case .cancelled:
            return "stopped waiting for lock on \(path): the task was cancelled"
        case .alreadyHeld:
            return "this FileLock for \(path) is already held or being acquired; "
                + "locks are not reentrant: use one FileLock instance per owner"
        case .networkFileSystem:
            return "refusing to lock \(path): it is on a network file system (\(fileSystem ?? "unknown")), "
                + "whose locks are not reliable across machines; keep Burg's data on a local disk, "
                + "or allow network file systems explicitly if only one machine ever uses it"
        case .cannotOpen:
            return "cannot open lock file \(path): \(underlying?.message ?? "unknown error"); "
                + openHint
        case .system:
            return "locking \(path) failed: \(underlying?.description ?? "unknown error")"
        }
    }

    private var openHint: String {
        switch underlying?.errno {
        case ENOENT: return "its directory does not exist; create it or pass another --data-dir"
        case EACCES, EPERM: return "permission denied; run as the user that owns the directory or fix its permissions"
        case EROFS: return "the file system is read-only; remount it read-write or use another directory"
        case EISDIR: return "that path is a directory; lock files must be regular files"
        case ENOTDIR: return "a component of the path is not a directory"
        case ENOSPC: return "the disk is full; free space"
        default: return "check the path and its permissions"
        }
    }

    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .wouldBlock, .timedOut: return ExitStatus.tempFail
        case .cancelled: return ExitStatus.failure
        case .alreadyHeld: return ExitStatus.software
        case .networkFileSystem: return ExitStatus.unavailable
        case .cannotOpen, .system: return ExitStatus.ioError
        }
    }

    /// ``exitStatus(for:)``, refined by the errno of a lock file that could not be opened.
    public var exitCode: Int32 {
        switch code {
        case .wouldBlock, .timedOut, .cancelled, .alreadyHeld, .networkFileSystem:
            return Self.exitStatus(for: code)
        case .cannotOpen, .system:
            switch underlying?.errno {
            case ENOENT: return ExitStatus.noInput
            case EACCES, EPERM: return ExitStatus.noPermission
            case EROFS: return ExitStatus.cantCreate
            default: return ExitStatus.ioError
            }
        }
    }
}
