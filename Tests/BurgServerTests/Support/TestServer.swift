import BurgRecords
import Foundation

/// What a test asks of a Burg server, whether it runs in this process (``InProcessServer``) or as a
/// real `burg serve` (``LiveServer``): requests, and sign-up and sign-in through the API.
protocol TestServer: Sendable {
    /// The data directory the server runs on, as this process reaches it.
    var dataDir: String { get }
    /// One request with any body and content type; the raw answer. A body without a content type is
    /// sent as JSON; the answer's header names are lowercased.
    func exchange(_ method: String, _ path: String, body: Data?, contentType: String?, token: String?) async throws
        -> (status: Int, body: Data, headers: [String: String])
}

/// An answer whose body is read as JSON (`null` when it is empty).
struct Reply {
    var status: Int
    var json: JSONValue
    var headers: [String: String]
    subscript(key: String) -> JSONValue? {
        if case .object(let object) = json { object[key] } else { nil }
    }
}

extension TestServer {
    func call(_ method: String, _ path: String, _ body: JSONValue? = nil, token: String? = nil, rawBody: Data? = nil) async throws -> Reply {
        let (status, data, headers) = try await exchange(
            method, path, body: rawBody ?? body.map { Data($0.jsonText.utf8) }, contentType: nil, token: token)
        let json = data.isEmpty ? JSONValue.null : try JSONValue.parse(String(decoding: data, as: UTF8.self))
        return Reply(status: status, json: json, headers: headers)
    }

    /// A request with any body and content type; the raw reply (for multipart uploads and file downloads).
    func raw(_ method: String, _ path: String, body: Data? = nil, contentType: String? = nil, token: String? = nil) async throws
        -> (status: Int, body: Data, headers: [String: String])
    {
        try await exchange(method, path, body: body, contentType: contentType, token: token)
    }

    /// Signs in and returns the token.
    func signIn(_ collection: String, _ identity: String, _ password: String) async throws -> String {
        let reply = try await call("POST", "/api/collections/\(collection)/auth-with-password",
                                   .object(["identity": .string(identity), "password": .string(password)]))
        guard reply.status == 200, case .string(let token)? = reply["token"] else { throw TestFailure("sign-in failed: \(reply.json)") }
        return token
    }

    /// Signs a new user up through the users collection (its secrets never in the reply), then in.
    func signUp(_ email: String) async throws -> (id: String, token: String) {
        let reply = try await call("POST", "/api/collections/users/records",
            .object(["email": .string(email), "password": "long enough pass", "passwordConfirm": "long enough pass"]))
        guard reply.status == 200, case .string(let id)? = reply["id"] else { throw TestFailure("sign-up failed: \(reply.json)") }
        guard reply["password"] == nil && reply["tokenKey"] == nil else { throw TestFailure("sign-up showed secrets: \(reply.json)") }
        return (id, try await signIn("users", email, "long enough pass"))
    }

    func superuserToken() async throws -> String { try await signIn("_superusers", LiveServer.superuser.0, LiveServer.superuser.1) }
}
