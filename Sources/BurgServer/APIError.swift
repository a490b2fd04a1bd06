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
    /// `data` entries that are not one field error: PocketBase nests errors of list items by position
    /// (`{"indexes": {"0": {code, message}}}`).
    public var nestedData: [String: JSONValue] = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, data: [String: FieldError] = [:], headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.data = data
        self.headers = headers
    }

    static let superusersOnly = APIError(.forbidden, "Only superusers can perform this action.")
    /// PocketBase's 403 on the settings and crons routes for a signed-in non-superuser.
    static let notAllowed = APIError(.forbidden, "The authorized record is not allowed to perform this action.")
    static let notFound = APIError(.notFound, "The requested resource wasn't found.")

    var json: JSONValue {
        .object([
            "status": .number(Double(status.code)),
            "message": .string(message),
            "data": .object(data.mapValues { .object(["code": .string($0.code), "message": .string($0.message)]) }
                .merging(nestedData) { _, nested in nested }),
        ])
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
