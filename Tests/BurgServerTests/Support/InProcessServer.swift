import BurgAuth
import BurgCore
import BurgRecords
import BurgServer
import BurgStore
import BurgTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
@testable import burg

/// Burg's HTTP API in this process: ``buildApplication(store:authenticator:configuration:logger:)``
/// over a real store (an SQLite file in a temporary data directory) that has the same superuser as
/// ``LiveServer``, driven through HummingbirdTesting. `.router` hands each request straight to the
/// router; `.live` serves it on a loopback socket, for what needs one (raw bytes on the wire, the
/// client's address, a server-sent event stream read by a real client).
struct InProcessServer: TestServer {
    let dir: TemporaryDirectory
    let dataDir: String
    let store: Store
    let client: any TestClientProtocol
    /// The loopback port of a `.live` server (0 for `.router`: nothing listens).
    var port: Int { client.port ?? 0 }

    /// Creates the data directory and its superuser as `burg superuser upsert --bcrypt-cost 4` does, opens
    /// the store and the authenticator as `burg serve` does (with `auth` as its sign-in settings), builds
    /// the application with `configuration`, and runs `test` against it, on ``ServerThreads``.
    /// `directory`: a temporary directory to keep the data directory in (to run a second server on the
    /// same data, as after a restart); `settings`: the runtime settings the application is built with.
    static func run(
        _ setup: TestingSetup = .router, configuration: ServerConfiguration = ServerConfiguration(),
        auth: AuthSettings = AuthSettings(), directory: TemporaryDirectory? = nil, settings: RuntimeSettings? = nil,
        _ test: @Sendable (InProcessServer) async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(ServerThreads.shared) {
            try await serve(setup, configuration: configuration, auth: auth, directory: directory, settings: settings, test)
        }
    }

    private static func serve(
        _ setup: TestingSetup, configuration: ServerConfiguration, auth: AuthSettings,
        directory: TemporaryDirectory?, settings: RuntimeSettings?,
        _ test: @Sendable (InProcessServer) async throws -> Void
    ) async throws {
        let dir = try directory ?? TemporaryDirectory()
        let data = dir.path("data")
        try DataDirectory.prepare(data)
        let store = try Store(StoreConfiguration(dataDirectory: data), migrations: BurgSchema.migrations)
        var superuserSettings = AuthSettings()
        superuserSettings.bcryptCost = 4
        let admin = try await Authenticator(store: store, dataDirectory: data, settings: superuserSettings, logger: Logger(label: "burg.superuser"))
        _ = try await admin.upsertSuperuser(email: LiveServer.superuser.0, password: LiveServer.superuser.1)
        let authenticator = try await Authenticator(store: store, dataDirectory: data, settings: auth, logger: Logger(label: "burg.auth"))
        let application = buildApplication(store: store, authenticator: authenticator, configuration: configuration, settings: settings,
                                           logger: Logger(label: "burg.http"))
        try await application.test(setup) { client in
            try await test(InProcessServer(dir: dir, dataDir: data.string, store: store, client: client))
        }
    }

    func exchange(_ method: String, _ path: String, body: Data?, contentType: String?, token: String?) async throws
        -> (status: Int, body: Data, headers: [String: String])
    {
        var headers: [String: String] = [:]
        if body != nil { headers["Content-Type"] = contentType ?? "application/json" }
        if let token { headers["Authorization"] = token }
        return try await send(method, path, headers: headers, body: body)
    }

    /// A request with the given header fields, as sent (no content type added).
    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil) async throws
        -> (status: Int, body: Data, headers: [String: String])
    {
        guard let method = HTTPRequest.Method(method) else { throw TestFailure("not an HTTP method: \(method)") }
        var fields = HTTPFields()
        for (name, value) in headers {
            // HTTPTypes' field type, reached through the HTTPFields that Hummingbird exports.
            guard let name = HTTPFields.Element.Name(name) else { throw TestFailure("not a header name: \(name)") }
            fields.append(HTTPFields.Element(name: name, value: value))
        }
        let response = try await client.executeRequest(uri: path, method: method, headers: fields, body: body.map { ByteBuffer(bytes: $0) })
        var answer: [String: String] = [:]
        for field in response.headers {
            let name = field.name.canonicalName
            answer[name] = answer[name].map { $0 + ", " + field.value } ?? field.value
        }
        return (Int(response.status.code), Data(response.body.readableBytesView), answer)
    }
}
