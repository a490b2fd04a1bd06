import BurgAuth
import BurgStore
import Hummingbird
import Logging

/// One route of the HTTP API: a method and a path in OpenAPI's syntax (`/api/files/{collection}/{id}/{name}`).
public struct APIRoute: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var method: String
    public var path: String

    public init(method: String, path: String) {
        self.method = method.uppercased()
        self.path = path
    }

    public var description: String { "\(method) \(path)" }

    public static func < (lhs: APIRoute, rhs: APIRoute) -> Bool { (lhs.path, lhs.method) < (rhs.path, rhs.method) }
}

/// Every route the server answers, read back from the router that ``buildApplication(store:authenticator:configuration:logger:)``
/// builds (the same registration code, not a second list), sorted. docs/openapi.json is checked against it.
/// Nothing is started and nothing in the store is changed.
public func apiRoutes(store: Store, authenticator: Authenticator) -> [APIRoute] {
    let broker = RealtimeBroker(store: store, logger: Logger(label: "burg.routes"))
    let router = buildRouter(store: store, authenticator: authenticator, configuration: ServerConfiguration(), settings: RuntimeSettings(), broker: broker)
    // Hummingbird writes a capture as `{name}`, as OpenAPI does.
    return router.routes.map { APIRoute(method: $0.method.rawValue, path: $0.path.description) }.sorted()
}
