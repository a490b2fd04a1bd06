import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an ``AtomicFile`` operation failed. The target is unchanged whenever this is thrown, and no
/// temporary file of the failed write is left behind.
public struct AtomicFileError: CodedError, Equatable {
    public enum Code: Sendable, CaseIterable {
        /// The directory that should hold the file does not exist.
        case directoryMissing
        /// The process may not create or replace files there.
        case permissionDenied
        /// The target path names a directory.
        case targetIsDirectory
        /// The file system is mounted read-only.
        case readOnlyFileSystem
        /// The disk (or the user's quota) is full.
        case noSpace
        /// Any other operating-system failure.
        case io
    }

    public var code: Code
    /// The file that was to be written or read.
    public var path: FilePath
    /// The failed system call.
    public var underlying: SystemError?

    public init(_ code: Code, path: FilePath, underlying: SystemError? = nil) {
        self.code = code
        self.path = path
        self.underlying = underlying
    }

    /// Classifies a failed system call made while writing `path`.
    static func from(_ error: SystemError, path: FilePath) -> AtomicFileError {
        let code: Code
        switch error.errno {
        case ENOENT, ENOTDIR: code = .directoryMissing
        case EACCES, EPERM: code = .permissionDenied
        case EISDIR: code = .targetIsDirectory
        case EROFS: code = .readOnlyFileSystem
        case ENOSPC, EDQUOT: code = .noSpace
        default: code = .io
        }
        return AtomicFileError(code, path: path, underlying: error)
    }

    public var description: String {
        let directory = path.removingLastComponent()
        let cause = underlying.map { " (\($0))" } ?? ""
        switch code {
        case .directoryMissing:
            return "cannot write \(path): directory \(directory) does not exist\(cause); create it first or choose another path"
        case .permissionDenied:
            return "cannot write \(path): permission denied in \(directory)\(cause); run as the owner or fix the directory's permissions"
        case .targetIsDirectory:
            return "cannot write \(path): it is a directory; choose a file name"
        case .readOnlyFileSystem:
            return "cannot write \(path): the file system is read-only\(cause); remount it read-write or use another directory"
        case .noSpace:
            return "cannot write \(path): no space left on the device\(cause); free space and retry (the old file is unchanged)"
        case .io:
            return "cannot write \(path)\(cause); the old file is unchanged"
        }
    }

    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .directoryMissing: return ExitStatus.noInput
        case .permissionDenied: return ExitStatus.noPermission
        case .targetIsDirectory, .readOnlyFileSystem: return ExitStatus.cantCreate
        case .noSpace, .io: return ExitStatus.ioError
        }
    }
}
