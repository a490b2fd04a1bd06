import BurgCore
import Hummingbird

/// PocketBase's `rateLimits` in front of every API route: the rule that applies (``RateLimitPlan``) is
/// read from the settings in force at each request, so a change applies to the next one. Over a limit:
/// PocketBase's 429 `{"data":{},"message":"Too Many Requests.","status":429}`, plus `Retry-After`, before
/// the route does any work. The caller counts as signed in (`@auth`) when the request carries a token
/// (the route verifies it). The realtime event stream (one long request) and `/api/health` are exempt.
struct RateLimitMiddleware: RouterMiddleware {
    let settings: RuntimeSettings

    func handle(_ request: Request, context: BurgRequestContext, next: (Request, BurgRequestContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/api/"), !(path == "/api/realtime" && request.method == .get), path != "/api/health" else {
            return try await next(request, context)
        }
        let authenticated = !(request.headers[.authorization]?.isEmpty ?? true)
        if let retryAfter = settings.snapshot.rateLimits.limit(method: request.method, path: path, authenticated: authenticated, clientIP: context.clientIP) {
            throw APIError(.tooManyRequests, "Too Many Requests.", headers: [.retryAfter: String(max(1, Int(retryAfter.seconds.rounded(.up))))])
        }
        return try await next(request, context)
    }
}
