import BurgAuth
import BurgCore
import BurgRecords
import BurgStore
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOHTTP1

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
            return error.code == .notFound ? .notFound : APIError(.internalServerError, "Something went wrong while reading the file.")
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
