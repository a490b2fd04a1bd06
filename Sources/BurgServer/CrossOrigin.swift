import Hummingbird
import HTTPTypes

/// The web origins whose pages may call the API from a browser (CORS). PocketBase's default is any
/// origin, which is safe for this API: tokens travel in the `Authorization` header, never in cookies, so
/// another site's page cannot act with a visitor's credentials.
public enum AllowedOrigins: Sendable, Equatable {
    /// `Access-Control-Allow-Origin: *`.
    case any
    /// Only these origins (`scheme://host[:port]`, compared exactly), each echoed back; others get no
    /// CORS headers, so the browser keeps their pages from reading the answer.
    case only([String])

    /// `*`, or a comma-separated list of origins; nil when an entry is not an origin.
    public init?(list: String) {
        let entries = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if entries == ["*"] { self = .any; return }
        guard !entries.isEmpty, entries.allSatisfy(Self.isOrigin) else { return nil }
        self = .only(entries)
    }

    /// `http://localhost:5173`, `https://app.example.com`: a scheme, a host, perhaps a port; no path.
    static func isOrigin(_ text: String) -> Bool {
        guard let separator = text.range(of: "://") else { return false }
        let scheme = text[..<separator.lowerBound]
        let authority = text[separator.upperBound...]
        return ["http", "https"].contains(scheme.lowercased()) && !authority.isEmpty
            && !authority.contains { $0 == "/" || $0 == "?" || $0 == "#" || $0 == " " || $0 == "*" }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, or nil: not allowed.
    func allowed(_ origin: String?) -> String? {
        guard let origin else { return nil }
        switch self {
        case .any: return "*"
        case .only(let origins): return origins.contains(origin) ? origin : nil
        }
    }
}

/// Answers CORS as PocketBase does: every `OPTIONS` request (any path, even one with no route) gets a
/// 204; an allowed origin's gets the methods, and the headers the browser asked for echoed back; every
/// other response from an allowed origin carries `Access-Control-Allow-Origin`.
///
/// Not Hummingbird's `CORSMiddleware`: it answers a preflight with a fixed list of allowed headers, and
/// an `OPTIONS` without `Origin` with the router's 404, so a browser app that sends a header of its own
/// (as PocketBase allows) would be blocked.
struct CrossOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: AllowedOrigins
    static var methods: String { "GET,HEAD,PUT,PATCH,POST,DELETE" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let allowed = origins.allowed(request.headers[.origin])
        if request.method == .options {
            var headers = HTTPFields()
            if let allowed {
                headers[.accessControlAllowOrigin] = allowed
                headers[.accessControlAllowMethods] = Self.methods
                if let asked = request.headers[.accessControlRequestHeaders] { headers[.accessControlAllowHeaders] = asked }
                headers[.vary] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
            } else {
                headers[.vary] = "Origin"
            }
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        if let allowed { response.headers[.accessControlAllowOrigin] = allowed }
        if let vary = response.headers[.vary] {
            if !vary.lowercased().contains("origin") { response.headers[.vary] = "Origin, " + vary }
        } else {
            response.headers[.vary] = "Origin"
        }
        return response
    }
}
