import BurgAuth
import BurgCore
import BurgRecords
import BurgStore
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOHTTP1
import SystemPackage

/// An error as PocketBase sends it: `{"status", "message", "data": {field: {code, message}}}`.
/// Every error a route throws becomes one of these in ``ErrorMiddleware``; nothing else (no stack
/// trace, no SQL) reaches the client.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var data: [String: FieldError]
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, data: [String: FieldError] = [:], headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.data = data
        self.headers = headers
    }

    static let superusersOnly = APIError(.forbidden, "Only superusers can perform this action.")
    static let notFound = APIError(.notFound, "The requested resource wasn't found.")

    var json: JSONValue {
        .object([
            "status": .number(Double(status.code)),
            "message": .string(message),
            "data": .object(data.mapValues { .object(["code": .string($0.code), "message": .string($0.message)]) }),
        ])
    }

    /// The API's answer for an error thrown by Burg's libraries (or a bug: 500, logged, not shown).
    static func from(_ error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ValidationError:
            return APIError(.badRequest, "Failed to validate the submitted data.", data: error.fields)
        case let error as NumberParameterError:
            return APIError(.badRequest, error.description,
                            data: [error.name: FieldError("validation_invalid_number", error.description)])
        case let error as FilterError:
            return APIError(.badRequest, "Invalid filter or sort: \(error.description)")
        case let error as BurgRecords.RecordError:
            switch error.code {
            case .notFound: return .notFound
            case .forbidden: return APIError(.badRequest, "Failed to create record: the create rule does not allow it.")
            case .invalidQuery: return APIError(.badRequest, error.message)
            case .protected: return APIError(.badRequest, error.message)
            case .brokenRule:
                // The message holds the rule's text, which is not the caller's to read: logged only.
                logger.error("access rule does not compile", metadata: ["error": "\(error)"])
                return APIError(.badRequest, "The collection's access rule is invalid; a superuser has to correct it.")
            }
        case let error as SchemaError:
            switch error.code {
            case .collectionMissing: return APIError(.notFound, "Missing collection context.")
            case .invalidRule:
                return APIError(.badRequest, "Failed to validate the submitted data.",
                                data: [error.field ?? "rule": FieldError("validation_invalid_rule", "Invalid rule: \(error.message)")])
            default: return APIError(.badRequest, error.description)
            }
        case let error as AuthError:
            var headers = HTTPFields()
            if let retry = error.retryAfter { headers[.retryAfter] = String(Int(retry.seconds.rounded(.up))) }
            return APIError(HTTPResponse.Status(code: error.httpStatus), error.message, data: error.fields, headers: headers)
        case let error as FileError:
            switch error.code {
            case .notFound: return .notFound
            case .noSpace: return storageFull(error, logger: logger)
            case .readOnly: return storageReadOnly(error, logger: logger)
            default:
                logger.error("file storage failed", metadata: ["error": "\(error)"])
                return APIError(.serviceUnavailable, "The server could not read or write the file; nothing was changed.")
            }
        case let error as AtomicFileError:
            switch error.code {
            case .noSpace: return storageFull(error, logger: logger)
            case .readOnlyFileSystem: return storageReadOnly(error, logger: logger)
            default:
                logger.error("file storage failed", metadata: ["error": "\(error)"])
                return APIError(.serviceUnavailable, "The server could not write the file; nothing was changed.")
            }
        case let error as StoreError:
            return from(error, logger: logger)
        case let error as Errno:
            // A system call on the server's own files (the upload spool): the server's condition.
            switch error {
            case .noSpace, .diskQuotaExceeded: return storageFull(error, logger: logger)
            case .readOnlyFileSystem: return storageReadOnly(error, logger: logger)
            default:
                logger.error("file system call failed", metadata: ["error": "\(error)"])
                return APIError(.serviceUnavailable, "The server could not write the request's files; nothing was changed.")
            }
        case let error as JSONValue.ParseError:
            return APIError(.badRequest, "The request body is not valid JSON: \(error.description).")
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
}

extension APIError {
    /// The database's failures: the server's condition, not the caller's mistake, so never a 400; and
    /// not a bug, so never a 500. Each says that nothing was saved (a failed write rolls back whole).
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
        case .io, .corrupt, .notADatabase, .missing, .networkFileSystem, .newerSchema:
            logger.critical("database failed", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, "The server cannot use its database right now; nothing was saved. An administrator has to look at the server's log.")
        case .sqlite:
            logger.error("request failed", metadata: ["error": "\(error)"])
            return APIError(.internalServerError, "Something went wrong while processing your request.")
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

/// Turns every thrown error into PocketBase's JSON error shape, in one place.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let api = APIError.from(error, logger: context.logger)
            var headers = api.headers
            headers[.contentType] = "application/json"
            return Response(status: api.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: api.json.jsonText)))
        }
    }
}

extension Response {
    /// A JSON response.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: value.jsonBytes)))
    }
}
