import BurgCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import GRDB
import SystemPackage

/// Why a ``Store`` operation failed: what happened, to which database, and what to do about it.
///
/// Errors that come from SQLite carry its *extended* result code (e.g. 2067 SQLITE_CONSTRAINT_UNIQUE,
/// 517 SQLITE_BUSY_SNAPSHOT), the statement that failed, and for writes how many attempts were made and
/// how long they waited in all.
public struct StoreError: CodedError {
    public enum Code: String, Sendable, CaseIterable {
        /// The write kept meeting locks until the retry deadline passed.
        case busy
        /// A constraint (UNIQUE, NOT NULL, CHECK, FOREIGN KEY) rejected the write. Never retried.
        case constraint
        /// The file is not a SQLite database.
        case notADatabase
        /// The database file is damaged (truncated, or pages that do not parse).
        case corrupt
        /// The database was migrated by a newer Burg than this one.
        case newerSchema
        /// The database or its directory cannot be written (permissions, read-only file system).
        case readOnly
        /// The data directory is on a network file system, where WAL is unsafe.
        case networkFileSystem
        /// There is no database at the path (and the store was told not to create one).
        case missing
        /// The disk is full.
        case diskFull
        /// The operating system failed to read or write the file.
        case io
        /// Any other SQLite error (syntax, misuse, ...): a bug in the caller or in Burg.
        case sqlite
    }

    public var code: Code
    /// The database file.
    public var path: FilePath
    /// SQLite's extended result code, when SQLite reported the error.
    public var sqliteCode: Int32?
    /// The statement that failed, when known.
    public var statement: String?
    /// SQLite's or the operating system's message.
    public var message: String?
    /// Attempts made (writes only; 1 when the error was not retried).
    public var attempts: Int
    /// Time spent in all attempts and backoffs.
    public var waited: Duration
    /// Extra facts for the message (the schema versions, the file-system type, ...).
    public var detail: String?

    public init(
        _ code: Code, path: FilePath, sqliteCode: Int32? = nil, statement: String? = nil, message: String? = nil,
        attempts: Int = 1, waited: Duration = .zero, detail: String? = nil
    ) {
        self.code = code
        self.path = path
        self.sqliteCode = sqliteCode
        self.statement = statement
        self.message = message
        self.attempts = attempts
        self.waited = waited
        self.detail = detail
    }

    /// Classifies an error SQLite reported for `path`.
    init(_ error: DatabaseError, path: FilePath, attempts: Int = 1, waited: Duration = .zero) {
        let code: Code
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: code = .busy
        case .SQLITE_CONSTRAINT: code = .constraint
        case .SQLITE_NOTADB: code = .notADatabase
        case .SQLITE_CORRUPT: code = .corrupt
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN, .SQLITE_AUTH: code = .readOnly
        case .SQLITE_FULL: code = .diskFull
        case .SQLITE_IOERR: code = .io
        default: code = .sqlite
        }
        self.init(
            code, path: path, sqliteCode: error.extendedResultCode.rawValue, statement: error.sql,
            message: error.message, attempts: attempts, waited: waited)
    }

    /// True for the SQLite errors a write retries: SQLITE_BUSY (and its extended codes, among them
    /// SQLITE_BUSY_SNAPSHOT) and SQLITE_LOCKED.
    static func isRetryable(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    public var description: String {
        let directory = path.removingLastComponent()
        var facts: [String] = []
        if let sqliteCode { facts.append("SQLite code \(sqliteCode)") }
        if let message { facts.append(message) }
        if let statement { facts.append("statement: \(statement)") }
        let cause = facts.isEmpty ? "" : " (" + facts.joined(separator: "; ") + ")"
        let extra = detail.map { ": \($0)" } ?? ""
        switch code {
        case .busy:
            return "database at \(path) stayed locked: gave up after \(attempts) attempts in "
                + "\(formatDuration(waited))\(cause)\(extra); a process holds a long write transaction "
                + "(see `burg db health`), stop it or raise the retry deadline"
        case .constraint:
            return "write to \(path) rejected by a constraint\(cause); change the data so it satisfies it"
        case .notADatabase:
            return "\(path) is not a SQLite database\(cause)\(extra); it was left untouched: move it aside "
                + "or pass --data-dir to use another directory"
        case .corrupt:
            return "database at \(path) is damaged\(cause)\(extra); it was left untouched: restore it from a "
                + "backup, or run `burg db health` to see what is wrong"
        case .newerSchema:
            return "database at \(path) was migrated by a newer Burg\(extra); it was left untouched: upgrade "
                + "burg, or restore a backup made by this version"
        case .readOnly:
            return "cannot write the database at \(path)\(cause)\(extra); make \(directory) and its files "
                + "writable by this user (uid \(geteuid())) or pass --data-dir"
        case .networkFileSystem:
            return "refusing to open \(path) in WAL mode on a network file system\(extra): its locks and "
                + "shared memory are not reliable across machines and the database would get corrupted; "
                + "move the data directory to a local disk (pass --data-dir)"
        case .missing:
            return "there is no database at \(path)\(extra); start `burg serve --data-dir \(directory)` "
                + "once to create it, or pass the right --data-dir"
        case .diskFull:
            return "the disk holding \(path) is full\(cause); free space, then retry"
        case .io:
            return "I/O error on the database at \(path)\(cause)\(extra); check the disk (dmesg) and "
                + "run `burg db health`"
        case .sqlite:
            return "database error on \(path)\(cause)\(extra); this is a bug in Burg, please report it"
        }
    }

    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .busy: return ExitStatus.tempFail
        case .constraint, .notADatabase, .corrupt: return ExitStatus.dataError
        case .newerSchema: return ExitStatus.config
        case .readOnly: return ExitStatus.noPermission
        case .networkFileSystem: return ExitStatus.unavailable
        case .missing: return ExitStatus.noInput
        case .diskFull, .io: return ExitStatus.ioError
        case .sqlite: return ExitStatus.software
        }
    }
}

