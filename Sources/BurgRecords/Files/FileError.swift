import BurgCore

/// Why a file operation failed; the record and its stored files are unchanged.
public struct FileError: CodedError, Equatable {
    public enum Code: String, Sendable, CaseIterable {
        /// The key file is missing, unreadable or malformed, or a file was encrypted with a key Burg no
        /// longer has.
        case keyUnavailable = "file_key_unavailable"
        /// A key file already exists where a new one was to be created.
        case keyExists = "file_key_exists"
        /// A stored file failed authentication: damaged, truncated, or not written by Burg for this place.
        case damaged = "file_damaged"
        /// No such stored file.
        case notFound = "file_not_found"
        /// Reading or writing failed (permissions, an I/O error).
        case io = "file_io"
        /// The disk (or the user's quota) is full.
        case noSpace = "file_no_space"
        /// The file system is mounted read-only.
        case readOnly = "file_read_only"
    }

    public var code: Code
    public var path: String
    public var message: String

    public init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .notFound: ExitStatus.noInput
        case .damaged: ExitStatus.dataError
        case .keyExists: ExitStatus.cantCreate
        case .keyUnavailable, .io: ExitStatus.unavailable
        case .noSpace, .readOnly: ExitStatus.ioError
        }
    }
}
