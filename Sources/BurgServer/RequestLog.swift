import BurgRecords
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// What the request log learns while a request runs (the routes resolve the caller); shared by the
/// copies of the request context a request passes through.
final class RequestLogState: Sendable {
    private let actor = Mutex<String?>(nil)

    func setActor(_ value: String) { actor.withLock { $0 = value } }
    var currentActor: String? { actor.withLock { $0 } }
}

/// One JSON log line per request (`burg.http`, level info; 5xx at error): request id, method, path
/// (without the query string, which may hold filter values), status, duration in milliseconds, the
/// caller (`users/<id>`, `_superusers/<id>` or `guest`) and the client address. The request id comes
/// from the client's `X-Request-Id` when it is a sane token, else a new one, and is sent back in
/// `X-Request-Id`.
struct RequestLogMiddleware: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: BurgRequestContext, next: (Request, BurgRequestContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let requestID = Self.requestID(request.headers[.xRequestID])
        var response = try await next(request, context)
        response.headers[.xRequestID] = requestID
        let status = response.status.code
        let elapsed = ContinuousClock.now - started
        let hundredths = elapsed.components.seconds * 100_000 + elapsed.components.attoseconds / 10_000_000_000_000
        logger.log(level: status >= 500 ? .error : .info, "request", metadata: [
            "requestId": .string(requestID),
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "status": .stringConvertible(status),
            "durationMs": .string(Self.milliseconds(hundredths: hundredths)),
            "actor": .string(context.log.currentActor ?? "guest"),
            "ip": .string(context.clientIP),
        ])
        return response
    }

    /// `1234` → `"12.34"`: the duration with two decimals (no `String(format:)` on every request).
    static func milliseconds(hundredths: Int64) -> String {
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func requestID(_ offered: String?) -> String {
        if let offered, (1...64).contains(offered.utf8.count),
           offered.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }) {
            return offered
        }
        return RecordID.generate()
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-Id")!
}
