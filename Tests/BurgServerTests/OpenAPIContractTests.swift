import BurgAuth
import BurgRecords
import BurgServer
import BurgStore
import BurgTestSupport
import Foundation
import Logging
import SystemPackage
import Testing

/// docs/openapi.json documents exactly the routes the server registers: every route has a spec entry
/// and every spec entry a route (compared by method and path, parameters written `{name}`).
@Suite struct OpenAPIContractTests {
    static let root = FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()
    static let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    /// The spec as JSON.
    static func spec() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: root.appending("docs/openapi.json").string))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The operations a spec documents, as routes.
    static func documentedRoutes(_ spec: [String: Any]) -> Set<APIRoute> {
        var routes = Set<APIRoute>()
        for (path, item) in spec["paths"] as? [String: Any] ?? [:] {
            for method in (item as? [String: Any] ?? [:]).keys where methods.contains(method) {
                routes.insert(APIRoute(method: method, path: normalised(path)))
            }
        }
        return routes
    }

    /// `{id}` and `:id` both as `{id}`.
    static func normalised(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }.joined(separator: "/")
    }

    /// What differs: routes without a spec entry, spec entries without a route.
    static func mismatches(documented: Set<APIRoute>, routed: [APIRoute]) -> (undocumented: [APIRoute], unrouted: [APIRoute]) {
        let routed = Set(routed.map { APIRoute(method: $0.method, path: normalised($0.path)) })
        return (routed.subtracting(documented).sorted(), documented.subtracting(routed).sorted())
    }

    /// The server's route table over a real (empty) store.
    static func routeTable() async throws -> [APIRoute] {
        let dir = try TemporaryDirectory()
        let store = try Store(StoreConfiguration(dataDirectory: dir.path),
                              migrations: .store + CollectionRegistry.migrations + AuthSchema.migrations)
        let authenticator = try await Authenticator(store: store, dataDirectory: dir.path, logger: Logger(label: "test"))
        return apiRoutes(store: store, authenticator: authenticator)
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let routes = try await Self.routeTable()
        #expect(routes.count >= 17, "the route table reads as \(routes)")
        let (undocumented, unrouted) = Self.mismatches(documented: Self.documentedRoutes(try Self.spec()), routed: routes)
        #expect(undocumented.isEmpty, "routes missing from docs/openapi.json: \(undocumented)")
        #expect(unrouted.isEmpty, "docs/openapi.json documents routes the server does not have: \(unrouted)")
    }

    @Test func aRouteMissingFromTheSpecAndASpecEntryWithoutARouteAreBothReported() async throws {
        let routes = try await Self.routeTable()
        var documented = Self.documentedRoutes(try Self.spec())
        let dropped = try #require(documented.first { $0.path == "/api/files/{collection}/{id}/{name}" })
        documented.remove(dropped)
        let invented = APIRoute(method: "put", path: "/api/collections/{collection}/records/{id}")
        documented.insert(invented)
        let (undocumented, unrouted) = Self.mismatches(documented: documented, routed: routes)
        #expect(undocumented == [dropped])
        #expect(unrouted == [invented])
        // `:name` in a router path compares equal to `{name}` in the spec.
        let colon = Self.mismatches(documented: [APIRoute(method: "GET", path: "/api/x/{id}")],
                                    routed: [APIRoute(method: "GET", path: "/api/x/:id")])
        #expect(colon.undocumented.isEmpty && colon.unrouted.isEmpty)
    }

    /// The parts of the spec a client relies on: each operation has an id and a success response; each
    /// that reads a token documents 401; each with a body documents 400 or 413; every `$ref` resolves.
    @Test func everyOperationDocumentsItsResponsesAndEveryReferenceResolves() throws {
        let spec = try Self.spec()
        #expect(spec["openapi"] as? String == "3.1.0")
        var operationIDs = Set<String>()
        for (path, item) in spec["paths"] as? [String: Any] ?? [:] {
            for (method, value) in item as? [String: Any] ?? [:] where Self.methods.contains(method) {
                let operation = value as? [String: Any] ?? [:]
                let name = "\(method.uppercased()) \(path)"
                let id = operation["operationId"] as? String ?? ""
                #expect(!id.isEmpty && operationIDs.insert(id).inserted, "\(name): a unique operationId")
                let responses = operation["responses"] as? [String: Any] ?? [:]
                #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(name): a success response")
                if let security = operation["security"] as? [[String: Any]], security.contains(where: { !$0.isEmpty }) {
                    #expect(responses["401"] != nil, "\(name) reads a token, so it can answer 401")
                }
                if operation["requestBody"] != nil {
                    #expect(responses["413"] != nil, "\(name) takes a body, so it can answer 413")
                }
            }
        }
        let text = try String(contentsOfFile: Self.root.appending("docs/openapi.json").string, encoding: .utf8)
        let components = spec["components"] as? [String: Any] ?? [:]
        for match in text.matches(of: /"\$ref": "#\/components\/(\w+)\/(\w+)"/) {
            #expect((components[String(match.1)] as? [String: Any])?[String(match.2)] != nil, "unresolved \(match.0)")
        }
    }
}
