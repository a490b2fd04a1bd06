import BurgCore
import BurgTestSupport
import Foundation
import Testing

/// An auth collection's system fields (`email`, `password`, `tokenKey`, …) are always there: PocketBase
/// merges them into every auth definition, created or changed. A `PATCH` whose `fields` leaves them out
/// (the API fuzzer sent `{"fields": []}` with `?force=true` to `_superusers`) once dropped the columns and
/// left no one able to sign in.
@Suite struct AuthCollectionSchemaTests {
    static func fieldNames(_ reply: Reply) -> [String] {
        (reply["fields"]?.items ?? []).compactMap { $0.object?["name"]?.text }
    }

    @Test func patchingAnAuthCollectionsFieldsAwayKeepsItsCredentials() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            for collection in ["_superusers", "users"] {
                let patched = try await server.call("PATCH", "/api/collections/\(collection)?force=true",
                                                    .object(["fields": .array([]), "indexes": .array([])]), token: admin)
                #expect(patched.status == 200, "\(collection): \(patched.json)")
                let names = Self.fieldNames(patched)
                #expect(Set(["email", "emailVisibility", "verified", "password", "tokenKey"]).isSubset(of: Set(names)), "\(collection): \(names)")
            }
            // The old token still works (tokenKey kept), and so do new sign-ins, in both collections.
            let listed = try await server.call("GET", "/api/collections/users/records", token: admin)
            #expect(listed.status == 200, "\(listed.json)")
            _ = try await server.superuserToken()
            let user = try await server.call("POST", "/api/collections/users/records", .object([
                "email": "kept@example.org", "password": "kept password 1", "passwordConfirm": "kept password 1",
            ]))
            #expect(user.status == 200, "\(user.json)")
            _ = try await server.signIn("users", "kept@example.org", "kept password 1")
        }
    }

    @Test func aCreatedAuthCollectionGetsItsSystemFieldsAndSignsIn() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let created = try await server.call("POST", "/api/collections", .object([
                "name": "members", "type": "auth", "createRule": "",
                "fields": .array([.object(["name": "nick", "type": "text"])]),
            ]), token: admin)
            #expect(created.status == 200, "\(created.json)")
            let names = Self.fieldNames(created)
            #expect(Set(["email", "password", "tokenKey", "nick"]).isSubset(of: Set(names)), "\(names)")
            let member = try await server.call("POST", "/api/collections/members/records", .object([
                "email": "m@example.org", "password": "member password", "passwordConfirm": "member password", "nick": "M",
            ]))
            #expect(member.status == 200, "\(member.json)")
            _ = try await server.signIn("members", "m@example.org", "member password")
            // A later PATCH listing only its own fields keeps them too.
            let dropped = try await server.call("PATCH", "/api/collections/members", .object([
                "fields": .array([.object(["name": "nick", "type": "text"])]),
            ]), token: admin)
            #expect(dropped.status == 200 && Self.fieldNames(dropped).contains("tokenKey"), "\(dropped.json)")
            _ = try await server.signIn("members", "m@example.org", "member password")
        }
    }

    /// `auth-methods` as PocketBase answers it for `users` (its captured answer), for any caller; 404 for
    /// a collection that is not an auth collection.
    @Test func authMethodsAnswerPocketBasesShape() async throws {
        try await InProcessServer.run { server in
            let methods = try await server.call("GET", "/api/collections/users/auth-methods")
            #expect(methods.status == 200)
            #expect(methods.json == .object([
                "password": .object(["identityFields": .array(["email"]), "enabled": true]),
                "oauth2": .object(["providers": .array([]), "enabled": false]),
                "mfa": .object(["enabled": false, "duration": 0]), "otp": .object(["enabled": false, "duration": 0]),
                "authProviders": .array([]), "usernamePassword": false, "emailPassword": true,
            ]), "\(methods.json)")
            #expect(try await server.call("GET", "/api/collections/_superusers/auth-methods").status == 200)
            let admin = try await server.superuserToken()
            _ = try await server.call("POST", "/api/collections", .object(["name": "posts", "fields": .array([])]), token: admin)
            #expect(try await server.call("GET", "/api/collections/posts/auth-methods").status == 404)
            #expect(try await server.call("GET", "/api/collections/nope/auth-methods").status == 404)
        }
    }
}
