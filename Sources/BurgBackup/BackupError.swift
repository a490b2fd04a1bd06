import BurgCore

/// Why a backup could not be created, verified or restored. The live data directory is never changed by
/// a failure; a half-written archive never appears under a final name.
public struct BackupError: CodedError, Equatable {
    public enum Code: String, Sendable, CaseIterable {
        /// The file is not a Burg backup (not a zip, no manifest).
        case notAnArchive = "backup_not_an_archive"
        /// An entry's content differs from its recorded hash, or an entry is missing or unreadable.
        case corrupt = "backup_corrupt"
        /// The archive is encrypted and the key or passphrase does not open it (or none was given).
        case wrongKey = "backup_wrong_key"
        /// The archive was made by a Burg with migrations this one does not know.
        case newerSchema = "backup_newer_schema"
        /// The database in the archive fails `PRAGMA integrity_check` or its row counts differ from the manifest.
        case inconsistent = "backup_inconsistent"
        /// A server holds the data directory.
        case serverRunning = "backup_server_running"
        /// Reading or writing failed (disk full, permissions).
        case io = "backup_io"
        /// The archive or data directory does not exist.
        case notFound = "backup_not_found"
    }

    public var code: Code
    /// The archive or directory concerned.
    public var path: String
    /// The archive entry concerned, when one is.
    public var entry: String?
    public var message: String

    public init(_ code: Code, path: String, entry: String? = nil, _ message: String) {
        self.code = code
        self.path = path
        self.entry = entry
        self.message = message
    }

    public var description: String {
        let subject = entry.map { "entry \"\($0)\" of \(path)" } ?? path
        return "backup \(subject): \(message)"
    }

    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .notAnArchive, .corrupt, .newerSchema, .inconsistent: ExitStatus.dataError
        case .wrongKey: ExitStatus.noPermission
        case .serverRunning: ExitStatus.tempFail
        case .io: ExitStatus.ioError
        case .notFound: ExitStatus.noInput
        }
    }
}
