import BurgAuth
import BurgCore
import BurgRecords
import BurgServer
import Foundation
import Testing

/// Sign-up, sign-in, rules per user, lockout and rate limits, in process; lockouts and rate limits on a
/// loopback socket, so that requests come from a client address.
@Suite struct AuthAPITests {
    static let notes = JSONValue.ownedCollection("notes", fields: [.object(["name": "text", "type": "text"])])

    @Test func oneUserCannotSeeOrChangeAnothersRecordsAndGuestsCannotList() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let created = try await server.call("POST", "/api/collections", Self.notes, token: admin)
            #expect(created.status == 200, "\(created.json)")
            let ann = try await server.signUp("ann@example.org")
            let bob = try await server.signUp("bob@example.org")

            let note = try await server.call("POST", "/api/collections/notes/records", .object(["owner": .string(ann.id), "text": "Ann's"]), token: ann.token)
            #expect(note.status == 200, "\(note.json)")
            guard case .string(let noteID)? = note["id"] else { return }
            // Bob cannot create a note owned by Ann, see hers, list it, change or delete it.
            let forged = try await server.call("POST", "/api/collections/notes/records", .object(["owner": .string(ann.id), "text": "forged"]), token: bob.token)
            // A failed create rule is PocketBase's 400 "Failed to create record".
            #expect(forged.status == 400 && "\(forged.json)".contains("create rule"), "\(forged.json)")
            // Nor may a guest (the rule wants a signed-in user), nor may anyone but a superuser make one.
            let guest = try await server.call("POST", "/api/collections/notes/records", .object(["owner": .string(ann.id), "text": "guest"]))
            #expect(guest.status == 400 && "\(guest.json)".contains("create rule"), "\(guest.json)")
            let intruder = try await server.call("POST", "/api/collections/_superusers/records",
                .object(["email": "intruder@example.org", "password": "long enough pass", "passwordConfirm": "long enough pass"]), token: ann.token)
            #expect(intruder.status == 403, "\(intruder.json)")
            #expect(try await server.call("GET", "/api/collections/notes/records/\(noteID)", token: bob.token).status == 404)
            #expect(try await server.call("GET", "/api/collections/notes/records", token: bob.token)["totalItems"] == .number(0))
            #expect(try await server.call("PATCH", "/api/collections/notes/records/\(noteID)", .object(["text": "mine"]), token: bob.token).status == 404)
            #expect(try await server.call("DELETE", "/api/collections/notes/records/\(noteID)", token: bob.token).status == 404)
            // Ann can; a guest lists nothing; a superuser sees everything.
            #expect(try await server.call("GET", "/api/collections/notes/records/\(noteID)", token: ann.token)["text"] == "Ann's")
            // expand follows the relation (what the caller may view); fields keeps only the named keys.
            let expanded = try await server.call("GET", "/api/collections/notes/records/\(noteID)?expand=owner&fields=id,text,expand", token: ann.token)
            #expect(expanded["owner"] == nil && expanded["text"] == "Ann's")
            if case .object(let expand)? = expanded["expand"], case .object(let owner)? = expand["owner"] {
                #expect(owner["id"] == .string(ann.id) && owner["email"] == "ann@example.org")
            } else {
                Issue.record("no expand: \(expanded.json)")
            }
            #expect(try await server.call("GET", "/api/collections/notes/records?expand=text", token: ann.token).status == 400)
            #expect(try await server.call("GET", "/api/collections/notes/records")["totalItems"] == .number(0))
            #expect(try await server.call("GET", "/api/collections/notes/records", token: admin)["totalItems"] == .number(1))
            #expect(try await server.call("GET", "/api/collections/_superusers/records", token: admin)["totalItems"] == .number(1))
            // A collection whose list rule is null is superusers only.
            #expect(try await server.call("GET", "/api/collections/_superusers/records").status == 403)
            #expect(try await server.call("GET", "/api/collections", token: ann.token).status == 403)
            // Bob sees his own user record with its email, Ann's without.
            let bobSeesAnn = try await server.call("GET", "/api/collections/users/records/\(ann.id)", token: bob.token)
            #expect(bobSeesAnn.status == 404)
            let own = try await server.call("GET", "/api/collections/users/records/\(bob.id)", token: bob.token)
            #expect(own["email"] == "bob@example.org")
            // Refresh gives a new working token; a changed password invalidates the old ones.
            let refreshed = try await server.call("POST", "/api/collections/users/auth-refresh", token: bob.token)
            #expect(refreshed.status == 200 && refreshed["token"] != nil)
            let changed = try await server.call("PATCH", "/api/collections/users/records/\(bob.id)",
                .object(["oldPassword": "long enough pass", "password": "another long pass", "passwordConfirm": "another long pass"]), token: bob.token)
            #expect(changed.status == 200, "\(changed.json)")
            #expect(try await server.call("GET", "/api/collections/notes/records", token: bob.token).status == 401)
        }
    }

    @Test func repeatedFailuresLockTheIdentityOutWith429AndRetryAfter() async throws {
        try await InProcessServer.run(.live) { server in
            _ = try await server.signUp("carl@example.org")
            var statuses: [Int] = []
            for _ in 0..<6 {
                let reply = try await server.call("POST", "/api/collections/users/auth-with-password",
                                                  .object(["identity": "carl@example.org", "password": "wrong password"]))
                statuses.append(reply.status)
                if reply.status == 429 {
                    #expect(Int(reply.headers["retry-after"] ?? "") ?? 0 > 0)
                }
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == 400 } && statuses.last == 429, "\(statuses)")
            // Even the right password is refused while locked out.
            let right = try await server.call("POST", "/api/collections/users/auth-with-password",
                                              .object(["identity": "carl@example.org", "password": "long enough pass"]))
            #expect(right.status == 429)
            let empty = try await server.call("POST", "/api/collections/users/auth-with-password", .object([:]))
            #expect(empty.status == 400 || empty.status == 429)
        }
    }

    @Test func theLockoutThresholdAndDurationAreConfigurable() async throws {
        var auth = AuthSettings()
        auth.bcryptCost = 4
        auth.lockout.maxFailures = 2
        auth.lockout.lockoutDuration = .seconds(30 * 60)
        auth.lockout.window = .seconds(30 * 60)
        try await InProcessServer.run(.live, auth: auth) { server in
            _ = try await server.signUp("dora@example.org")
            var statuses: [Int] = []
            var retryAfter = 0
            for _ in 0..<3 {
                let reply = try await server.call("POST", "/api/collections/users/auth-with-password",
                                                  .object(["identity": "dora@example.org", "password": "wrong password"]))
                statuses.append(reply.status)
                if reply.status == 429 { retryAfter = Int(reply.headers["retry-after"] ?? "") ?? 0 }
            }
            #expect(statuses == [400, 400, 429], "\(statuses)")
            #expect(retryAfter > 15 * 60 && retryAfter <= 30 * 60, "\(retryAfter)")
        }
    }

    @Test func aBurstOfSignInsFromOneAddressIsRateLimited() async throws {
        var configuration = ServerConfiguration()
        configuration.authBurst = 3
        configuration.authRefillPerSecond = 0.01
        try await InProcessServer.run(.live, configuration: configuration) { server in
            var statuses: [Int] = []
            var retryAfter: String?
            for index in 0..<5 {
                let reply = try await server.call("POST", "/api/collections/users/auth-with-password",
                                                  .object(["identity": .string("u\(index)@example.org"), "password": "whatever pass"]))
                statuses.append(reply.status)
                if reply.status == 429 { retryAfter = reply.headers["retry-after"] }
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == 400 } && statuses.suffix(2).allSatisfy { $0 == 429 }, "\(statuses)")
            #expect((Int(retryAfter ?? "") ?? 0) > 0 && (Int(retryAfter ?? "") ?? 0) <= 100, "\(retryAfter ?? "none")")
        }
    }

    /// Refreshing a session draws nothing from the address's sign-in bucket: an app refreshing its users'
    /// tokens cannot lock their colleagues behind the same address out of signing in.
    @Test func tokenRefreshesDoNotSpendTheAddressesSignInBucket() async throws {
        var configuration = ServerConfiguration()
        configuration.authBurst = 3
        configuration.authRefillPerSecond = 0.001
        try await InProcessServer.run(.live, configuration: configuration) { server in
            let admin = try await server.superuserToken()  // the bucket's first sign-in
            var refreshes: [Int] = []
            for _ in 0..<8 {
                refreshes.append(try await server.call("POST", "/api/collections/_superusers/auth-refresh", token: admin).status)
            }
            #expect(refreshes.allSatisfy { $0 == 200 }, "\(refreshes)")
            // Two sign-ins are left of three, whatever the refreshes did; the fourth is refused.
            _ = try await server.superuserToken()
            _ = try await server.superuserToken()
            let refused = try await server.call("POST", "/api/collections/_superusers/auth-with-password",
                .object(["identity": .string(LiveServer.superuser.0), "password": .string(LiveServer.superuser.1)]))
            #expect(refused.status == 429, "\(refused.json)")
        }
    }

    /// With the defaults, a test suite or an office behind one address signs in a dozen times in a row
    /// (and far more: the burst is 100) without a 429.
    @Test func theDefaultLetsManySignInsFromOneAddressThrough() async throws {
        #expect(ServerConfiguration().authBurst == 100 && ServerConfiguration().authRefillPerSecond == 2)
        try await InProcessServer.run(.live) { server in
            var statuses: [Int] = []
            for _ in 0..<25 {
                let reply = try await server.call("POST", "/api/collections/_superusers/auth-with-password",
                    .object(["identity": .string(LiveServer.superuser.0), "password": .string(LiveServer.superuser.1)]))
                statuses.append(reply.status)
            }
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
        }
    }

    @Test func theRateLimitFlagsSetTheAPIRuleOfEachClientAddress() async throws {
        // A real `burg serve` (which also proves the flags reach the rules); in process, on a loaded
        // machine, this test's requests timed out while other tests held the cooperative pool.
        let server = try await LiveServer("--rate-limit", "0.05", "--rate-burst", "4", "--auth-burst", "100")
        do {
            // The sign-in counts against the `*:auth` rule, not the `/api/` one: four requests pass, the fifth is refused.
            let admin = try await server.superuserToken()
            var guest: [Int] = []
            for _ in 0..<4 { guest.append(try await server.call("GET", "/api/collections/users/records").status) }
            #expect(guest.allSatisfy { $0 != 429 }, "\(guest)")
            let refused = try await server.call("GET", "/api/collections/users/records")
            #expect(refused.status == 429 && (Int(refused.headers["retry-after"] ?? "") ?? 0) > 0)
            #expect(refused.json == .object(["data": .object([:]), "message": "Too Many Requests.", "status": 429]), "\(refused.json)")
            // Counted per address, as PocketBase counts: a token from the same address shares the bucket.
            #expect(try await server.call("GET", "/api/collections", token: admin).status == 429)
            // Health stays reachable for probes.
            #expect(try await server.call("GET", "/api/health").status == 200)
        }
    }
}
