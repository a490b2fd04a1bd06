import BurgAuth
import Crypto
import Hummingbird

/// A token bucket per caller in front of every API route (when configured): a request with a token
/// counts against that token, one without against the client's address. Over the limit: 429 with
/// Retry-After, before the route does any work. The realtime event stream is exempt (one long request).
struct RateLimitMiddleware: RouterMiddleware {
    let limiter: RateLimiter

    func handle(_ request: Request, context: BurgRequestContext, next: (Request, BurgRequestContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/api/"), !(path == "/api/realtime" && request.method == .get), path != "/api/health" else {
            return try await next(request, context)
        }
        if case .limited(let retryAfter) = limiter.take(Self.key(request, context)) {
            throw APIError(.tooManyRequests, "Too many requests, try again later.",
                           headers: [.retryAfter: String(Int(retryAfter.seconds.rounded(.up)))])
        }
        return try await next(request, context)
    }

    /// `token:<digest>` (the token itself is not kept in memory) or `ip:<address>`.
    static func key(_ request: Request, _ context: BurgRequestContext) -> String {
        if let header = request.headers[.authorization], !header.isEmpty {
            return "token:" + SHA256.hash(data: Array(header.utf8)).prefix(16).map { String($0, radix: 16) }.joined()
        }
        return "ip:" + context.clientIP
    }
}
