import BurgAuth
import BurgBackup
import BurgBench
import BurgCore
import BurgJobs
import BurgRecords
import BurgStore
import Hummingbird
import HTTPTypes
import Logging
import NIOHTTP1
import SystemPackage

/// The one place where errors become HTTP answers. Every code of every Burg module maps to a deliberate
/// status and a message that says what to do (`ErrorMappingTests` walks all of them): the caller's
/// mistakes are 4xx and name the problem; the server's conditions (a busy or full disk, a read-only file
/// system, a damaged database) are 503 or 507 and say that nothing was saved; internals (paths, SQL,
/// rule texts) go to the log, not to the client. Only an error no module declares — a bug — is a 500.
extension APIError {
    /// The API's answer for any thrown error.
    static func from(_ error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as RecordValidationError:
            return APIError(.badRequest, "Failed to validate the submitted data.", data: error.fields)
        case let error as NumberParameterError:
            return APIError(.badRequest, error.description,
                            data: [error.name: FieldError("validation_invalid_number", error.description)])
        case let error as SettingsLoadError:
            // PocketBase's answer, with the key whose value has the wrong type named where a form shows it.
            var answer = APIError(.badRequest, "An error occurred while loading the submitted data.")
            var path = error.path.split(separator: ".").map(String.init)
            var node: JSONValue = .object(["code": "validation_invalid_value", "message": .string("Must be \(error.expected).")])
            while path.count > 1, let key = path.popLast() { node = .object([key: node]) }
            answer.nestedData = [path.first ?? error.path: node]
            return answer
        case let error as JSONValue.ParseError:
            return APIError(.badRequest, "The request body is not valid JSON: \(error.description).")
        case let error as FilterError: return from(error)
        case let error as BurgRecords.RecordError: return from(error, logger: logger)
        case let error as SchemaError: return from(error)
        case let error as AuthError: return from(error)
        case let error as FileError: return from(error, logger: logger)
        case let error as ImportError: return from(error)
        case let error as SeedError:
            return APIError(.badRequest, error.description, data: [error.field: FieldError("validation_seed", error.message)])
        case let error as StoreError: return from(error, logger: logger)
        case let error as AtomicFileError: return from(error, logger: logger)
        case let error as LockError: return from(error, logger: logger)
        case let error as InstanceLockError: return from(error, logger: logger)
        case let error as JobError: return from(error)
        case let error as BackupError: return from(error, logger: logger)
        case let error as BenchError: return from(error, logger: logger)
        case let error as Errno:
            // A system call on the server's own files (the upload spool): the server's condition.
            switch error {
            case .noSpace, .diskQuotaExceeded: return storageFull(error, logger: logger)
            case .readOnlyFileSystem: return storageReadOnly(error, logger: logger)
            default:
                logger.error("file system call failed", metadata: ["error": "\(error)"])
                return APIError(.serviceUnavailable, "The server could not write the request's files; nothing was changed.")
            }
        case is HTTPParserError:
            // A body cut short, a malformed chunk: the request is broken, not the server.
            return APIError(.badRequest, "The request is malformed HTTP (its body is cut short or wrongly framed).",
                            headers: [.connection: "close"])
        case let error as HTTPError:
            return APIError(error.status, error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError:
            // Hummingbird's own refusals, e.g. a body over the limit (413).
            return APIError(error.status, error.status == .contentTooLarge
                ? "The request body is too large." : error.status.reasonPhrase)
        default:
            logger.error("request failed", metadata: ["error": "\(error)"])
            return APIError(.internalServerError, "Something went wrong while processing your request.")
        }
    }

    static func from(_ error: FilterError) -> APIError {
        APIError(.badRequest, "Invalid filter or sort: \(error.description)")
    }

    static func from(_ error: BurgRecords.RecordError, logger: Logger) -> APIError {
        switch error.code {
        case .notFound: return .notFound
        case .forbidden: return APIError(.badRequest, "Failed to create record: the create rule does not allow it.")
        case .superusersOnly: return .superusersOnly
        case .invalidQuery, .protected: return APIError(.badRequest, error.message)
        case .brokenRule:
            // The message holds the rule's text, which is not the caller's to read: logged only.
            logger.error("access rule does not compile", metadata: ["error": "\(error)"])
            return APIError(.badRequest, "The collection's access rule is invalid; a superuser has to correct it.")
        }
    }

    static func from(_ error: SchemaError) -> APIError {
        switch error.code {
        case .collectionMissing: return APIError(.notFound, "Missing collection context.")
        case .invalidRule:
            return APIError(.badRequest, "Failed to validate the submitted data.",
                            data: [error.field ?? "rule": FieldError("validation_invalid_rule", "Invalid rule: \(error.message)")])
        case .invalidCollectionName:
            // PocketBase's field error at `name`, with Burg's sentence as the message.
            let field = error.collection.isEmpty
                ? FieldError("validation_required", "Cannot be blank.")
                : FieldError("validation_match_invalid", "Must be in a valid format.")
            return APIError(.badRequest, error.description, data: ["name": field])
        case .collectionExists:
            return APIError(.badRequest, error.description,
                            data: ["name": FieldError("validation_collection_name_exists", "Collection name must be unique (case insensitive).")])
        case .invalidIndex:
            // PocketBase's code, at the index's position in `indexes`.
            var refusal = APIError(.badRequest, error.description)
            refusal.nestedData["indexes"] = .object([error.field ?? "0": .object([
                "code": "validation_invalid_index_expression", "message": .string(error.message)])])
            return refusal
        case .invalidName, .duplicateField, .reservedName, .invalidOptions, .wouldLoseData,
             .referenced, .protected, .idTaken:
            return APIError(.badRequest, error.description)
        }
    }

    /// PocketBase's statuses: 400 for credentials and auth records, 401 for tokens, 404 for a collection
    /// that is not an auth collection; 429 with Retry-After for a lockout.
    static func from(_ error: AuthError) -> APIError {
        let status: HTTPResponse.Status
        var headers = HTTPFields()
        switch error.code {
        case .invalidCredentials, .invalidRecord: status = .badRequest
        case .invalidToken: status = .unauthorized
        case .notAuthCollection: status = .notFound
        case .lockedOut:
            status = .tooManyRequests
            if let retry = error.retryAfter { headers[.retryAfter] = String(Int(retry.seconds.rounded(.up))) }
        }
        return APIError(status, error.message, data: error.fields, headers: headers)
    }

    static func from(_ error: FileError, logger: Logger) -> APIError {
        switch error.code {
        case .notFound: return .notFound
        case .noSpace: return storageFull(error, logger: logger)
        case .readOnly: return storageReadOnly(error, logger: logger)
        case .damaged:
            logger.critical("stored file failed authentication", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, "The stored file is damaged and was not served; an administrator has to restore it from a backup.")
        case .keyUnavailable, .keyExists, .io:
            logger.error("file storage failed", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, "The server could not read or write the file; nothing was changed.")
        }
    }

    static func from(_ error: ImportError) -> APIError {
        switch error.code {
        case .cannotOpen, .badHeader, .aborted, .lineTooLong:
            return APIError(.badRequest, "The import was refused: \(error.message); nothing was imported.")
        }
    }

    /// The database's failures: the server's condition, not the caller's mistake, so never a 400 (except
    /// a constraint, which the data sent broke); and not a bug, so never a 500. Each says that nothing
    /// was saved (a failed write rolls back whole).
    static func from(_ error: StoreError, logger: Logger) -> APIError {
        switch error.code {
        case .diskFull:
            return storageFull(error, logger: logger)
        case .readOnly:
            return storageReadOnly(error, logger: logger)
        case .busy:
            logger.warning("database busy", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, "The database is busy; nothing was saved. Try again in a moment.",
                            headers: [.retryAfter: "1"])
        case .constraint:
            return APIError(.badRequest, "The change conflicts with stored data (a constraint); nothing was saved.")
        case .io, .corrupt, .notADatabase, .missing, .networkFileSystem, .newerSchema, .sqlite:
            // `.sqlite` (an error SQLite classes as none of the above) is logged as a bug, but the
            // client learns the same as for a failing database: nothing was saved, look at the log.
            logger.critical("database failed", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, "The server cannot use its database right now; nothing was saved. An administrator has to look at the server's log.")
        }
    }

    static func from(_ error: AtomicFileError, logger: Logger) -> APIError {
        switch error.code {
        case .noSpace: return storageFull(error, logger: logger)
        case .readOnlyFileSystem: return storageReadOnly(error, logger: logger)
        case .directoryMissing, .permissionDenied, .targetIsDirectory, .io:
            logger.error("file storage failed", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, "The server could not write the file; nothing was changed.")
        }
    }

    /// A lock the server needs (a benchmark target's, a backup's): held elsewhere is a moment's wait;
    /// one that cannot be taken at all is the server's condition.
    static func from(_ error: LockError, logger: Logger) -> APIError {
        switch error.code {
        case .wouldBlock, .timedOut:
            return APIError(.serviceUnavailable, "Another process holds a lock this needs; nothing was changed. Try again in a moment.",
                            headers: [.retryAfter: "1"])
        case .cancelled:
            return APIError(.serviceUnavailable, "The server is shutting down; nothing was changed. Try again once it is back.",
                            headers: [.retryAfter: "5"])
        case .alreadyHeld, .networkFileSystem, .cannotOpen, .system:
            logger.error("lock failed", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, "The server could not take a lock it needs; nothing was changed. An administrator has to look at the server's log.")
        }
    }

    static func from(_ error: InstanceLockError, logger: Logger) -> APIError {
        switch error.code {
        case .alreadyRunning:
            return APIError(.conflict, "Another Burg process holds the data directory; stop it first. Nothing was changed.")
        case .lockFailed:
            logger.error("instance lock failed", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, "The server could not lock its data directory; nothing was changed. An administrator has to look at the server's log.")
        }
    }

    static func from(_ error: JobError) -> APIError {
        switch error.code {
        case .unknownKind: return APIError(.badRequest, error.message, data: ["kind": FieldError(error.codeName, error.message)])
        case .invalidArguments: return APIError(.badRequest, error.message, data: ["arguments": FieldError(error.codeName, error.message)])
        case .invalidSchedule: return APIError(.badRequest, error.message, data: ["schedule": FieldError(error.codeName, error.message)])
        case .notFound: return APIError(.notFound, error.message)
        case .invalidState: return APIError(.conflict, error.message)
        }
    }

    /// Backups are superusers' business, so the message may name the archive.
    static func from(_ error: BackupError, logger: Logger) -> APIError {
        switch error.code {
        case .notAnArchive, .corrupt, .wrongKey, .newerSchema, .inconsistent:
            return APIError(.badRequest, error.description, data: ["file": FieldError(error.codeName, error.message)])
        case .serverRunning: return APIError(.conflict, error.description)
        case .notFound: return APIError(.notFound, error.description)
        case .io:
            logger.error("backup failed", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, "The backup could not be read or written: \(error.message). Nothing was changed; free space or fix permissions and try again.")
        }
    }

    /// Benchmarks are superusers' business, so the message names the target; a refused target or
    /// option is a field error, as a form shows it.
    static func from(_ error: BenchError, logger: Logger) -> APIError {
        switch error.code {
        case .systemDirectory, .notAllowed, .noTarget, .notWritable, .insufficientSpace, .cachedOnly, .symbolicLink:
            return APIError(.badRequest, error.description, data: ["target": FieldError(error.codeName, error.description)])
        case .refusedFioOption, .invalidSettings:
            return APIError(.badRequest, error.description, data: ["options": FieldError(error.codeName, error.description)])
        case .alreadyRunning, .interrupted: return APIError(.conflict, error.description)
        case .runNotFound: return APIError(.notFound, error.description)
        case .fioMissing, .fioFailed, .io, .verifyFailed:
            logger.error("benchmark failed", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, error.description)
        }
    }

    /// 507: the disk holding the data directory is full. Reads go on; writes resume once space is freed.
    static func storageFull(_ error: any Error, logger: Logger) -> APIError {
        logger.critical("disk full: writes are refused until space is freed", metadata: ["error": "\(error)"])
        return APIError(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"),
                        "The server's disk is full; nothing was saved. Try again once an administrator has freed space.")
    }

    /// 503: the data directory's file system is read-only. Reads go on; writes resume once it is writable.
    static func storageReadOnly(_ error: any Error, logger: Logger) -> APIError {
        logger.critical("storage is read-only: writes are refused", metadata: ["error": "\(error)"])
        return APIError(.serviceUnavailable, "The server's storage is read-only right now; nothing was saved. Try again later.",
                        headers: [.retryAfter: "30"])
    }
}
