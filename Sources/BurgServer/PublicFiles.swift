import Hummingbird
import Logging
import NIOPosix

/// A web app served by Burg itself, as PocketBase serves `pb_public`: the files of one directory at `/`,
/// with content types, `ETag`/`If-None-Match`, `Last-Modified` and `Range` (Hummingbird's
/// `FileMiddleware`), never a directory listing and never a path with `..` (400).
///
/// The API comes first: a route that answers wins over a file of the same path, and nothing under
/// `/api/` is ever a file. With `indexFallback` (a single-page app's own routes, e.g. `/patients/42`), a
/// `GET` that matches neither a route nor a file gets the directory's `index.html`; unlike PocketBase,
/// an unknown `/api/…` path keeps its JSON 404, so a client's typo is not answered with a web page.
struct PublicFilesMiddleware<Context: RequestContext>: RouterMiddleware {
    let files: FileMiddleware<Context, LocalFileSystem>
    let indexFallback: Bool

    init(directory: String, indexFallback: Bool, threadPool: NIOThreadPool, logger: Logger) {
        files = FileMiddleware(directory, searchForIndexHtml: true, threadPool: threadPool, logger: logger)
        self.indexFallback = indexFallback
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path == "/api" || path.hasPrefix("/api/") { return try await next(request, context) }
        do {
            return try await files.handle(request, context: context, next: next)
        } catch let error as any HTTPResponseError where error.status == .notFound {
            guard indexFallback, request.method == .get || request.method == .head else { throw error }
            // The app's index, as if `/` had been asked for (a route there would already have answered).
            var head = request.head
            head.path = "/"
            return try await files.handle(Request(head: head, body: request.body), context: context) { _, _ in throw error }
        }
    }
}
