import Hummingbird
import HTTPTypes

/// Refuses a request whose declared `Content-Length` is above what its route could accept — 413 at
/// once, before a byte of the body is read (also when the client waits on `Expect: 100-continue`) —
/// and closes the connection, so the unread body is never drained. Bodies without a length
/// (chunked) are held to the same limits while they are read.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    /// JSON and form bodies.
    let maxBodySize: Int
    /// Multipart bodies (a create or update with files).
    let maxUploadSize: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength] {
            // A Content-Length that is not a plain number (or does not fit Int64) is malformed HTTP.
            guard let length = Int64(declared), length >= 0 else {
                throw APIError(.badRequest, "The Content-Length header is not a number of bytes.",
                               headers: [.connection: "close"])
            }
            let isMultipart = MultipartForm.boundary(of: request.headers[.contentType]) != nil
            let limit = Int64(isMultipart ? maxUploadSize : maxBodySize)
            if length > limit {
                throw APIError(.contentTooLarge, "Request entity too large (at most \(limit) bytes).",
                               headers: [.connection: "close"])
            }
        }
        return try await next(request, context)
    }
}
