import Hummingbird
import HTTPTypes

/// The headers PocketBase puts on every response: a browser is not to guess content types, not to let
/// another site frame Burg's answers or share a browsing context with them, and to use its XSS filter
/// where it still has one. A stored file (its answer carries `Content-Disposition`) has its own
/// sandboxing policy and may be framed — an image or a PDF shown in an app's page — so it gets no
/// `X-Frame-Options`, as in PocketBase.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.xContentTypeOptions] == nil { response.headers[.xContentTypeOptions] = "nosniff" }
        if response.headers[.contentDisposition] == nil, response.headers[.xFrameOptions] == nil {
            response.headers[.xFrameOptions] = "SAMEORIGIN"
        }
        response.headers[.crossOriginOpenerPolicy] = "same-origin"
        response.headers[.xXSSProtection] = "1; mode=block"
        return response
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let crossOriginOpenerPolicy = Self("Cross-Origin-Opener-Policy")!
    static let xXSSProtection = Self("X-XSS-Protection")!
}
