import BurgAuth
import BurgCore
import BurgRecords
import BurgStore
import BurgTestSupport
import Foundation
import GRDB
import Testing

@Suite struct AuthenticatorTests {
    /// The JSON payload of a JWT, as the SDKs decode it.
    static func payload(of token: String) throws -> [String: Any] {
        let parts = token.split(separator: ".")
        try #require(parts.count == 3)
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let data = try #require(Data(base64Encoded: base64))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func signingInWithTheRightPasswordGivesATokenThatNamesTheRecord() async throws {
        let fixture = try await AuthFixture()
        let user = try await fixture.user("Ada@Example.com")
        let result = try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "correct horse", clientIP: "10.0.0.1")
        #expect(result.record.id == user.id)
        #expect(result.record.values["password"] == nil && result.record.values["tokenKey"] == nil)
        #expect(result.record.values["email"] == .string("ada@example.com"))
        #expect(result.record.values["lastLogin"] == .string(FilterSQL.formatDate(fixture.clock.now)))
        let claims = try Self.payload(of: result.token)
        #expect(claims["id"] as? String == user.id)
        #expect(claims["type"] as? String == "auth")
        // The JavaScript SDK treats a token as valid only with an integer `exp` in the future.
        let exp = try #require(claims["exp"] as? Int)
        #expect(Double(exp) > fixture.clock.now.timeIntervalSince1970)
        let identity = try await fixture.auth.verify(token: result.token)
        #expect(identity.recordId == user.id && identity.collectionName == "users" && !identity.isSuperuser)
        #expect(try await fixture.auth.verify(token: "Bearer " + result.token).recordId == user.id)
        #expect(identity.filterValues[["auth", "id"]] == .string(user.id))
        let successes = try await fixture.auth.audit.list(filter: "action = 'auth.success'").items
        #expect(successes.count == 1 && successes[0].recordId == user.id && successes[0].ip == "10.0.0.1")
    }

    @Test func aWrongPasswordAndAnUnknownIdentityFailAlike() async throws {
        let fixture = try await AuthFixture()
        try await fixture.user("ada@example.com")
        let wrongPassword = await #expect(throws: AuthError.self) {
            try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "wrong horse", clientIP: "10.0.0.1")
        }
        let unknown = await #expect(throws: AuthError.self) {
            try await fixture.auth.authWithPassword(collection: "users", identity: "bob@example.com", password: "correct horse", clientIP: "10.0.0.1")
        }
        #expect(wrongPassword?.code == .invalidCredentials)
        #expect(wrongPassword == unknown)
        #expect(try await fixture.auth.audit.list(filter: "action = 'auth.failure'").totalItems == 2)
    }

    @Test func fiveFailuresLockTheIdentityOutEvenForTheRightPasswordUntilTheLockoutEnds() async throws {
        let fixture = try await AuthFixture()
        try await fixture.user("ada@example.com")
        for _ in 0..<5 {
            await #expect(throws: AuthError(.invalidCredentials, "Failed to authenticate.")) {
                try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "guess", clientIP: "10.0.0.9")
            }
        }
        let locked = await #expect(throws: AuthError.self) {
            try await fixture.auth.authWithPassword(collection: "users", identity: "ADA@example.com", password: "correct horse", clientIP: "10.0.0.1")
        }
        #expect(locked?.code == .lockedOut)
        let wait = try #require(locked?.retryAfter)
        #expect(abs(wait.seconds - 15 * 60) < 1)
        #expect(try await fixture.auth.audit.list(filter: "action = 'auth.lockout'").totalItems == 1)

        // The lockout is in the database: a restarted server still refuses.
        let restarted = try await AuthFixture(dir: fixture.dir)
        restarted.clock.advance(.seconds(fixture.clock.now.timeIntervalSince(restarted.clock.now) + 60))
        await #expect(throws: AuthError.self) {
            try await restarted.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "correct horse", clientIP: "10.0.0.1")
        }

        fixture.clock.advance(.seconds(15 * 60 + 1))
        let result = try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "correct horse", clientIP: "10.0.0.1")
        #expect(result.record.values["email"] == .string("ada@example.com"))
    }

    @Test func oneAddressTryingManyIdentitiesIsLockedOutWhileOtherAddressesAreNot() async throws {
        var settings = AuthSettings()
        settings.lockout.maxFailuresPerIP = 3
        let fixture = try await AuthFixture(settings: settings)
        try await fixture.user("ada@example.com")
        for name in ["a", "b", "c"] {
            await #expect(throws: AuthError.self) {
                try await fixture.auth.authWithPassword(collection: "users", identity: "\(name)@example.com", password: "guess", clientIP: "192.0.2.7")
            }
        }
        let locked = await #expect(throws: AuthError.self) {
            try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "correct horse", clientIP: "192.0.2.7")
        }
        #expect(locked?.code == .lockedOut)
        _ = try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "correct horse", clientIP: "192.0.2.8")
    }

    @Test func changingThePasswordNeedsTheOldOneAndInvalidatesEarlierTokens() async throws {
        let fixture = try await AuthFixture()
        let user = try await fixture.user("ada@example.com")
        let first = try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "correct horse", clientIP: "10.0.0.1")

        let missingOld = await #expect(throws: RecordValidationError.self) {
            try await fixture.auth.updateRecord(collection: "users", id: user.id, values: [
                "password": .string("battery staple"), "passwordConfirm": .string("battery staple"),
            ], by: first.identity)
        }
        #expect(missingOld?.fields["oldPassword"]?.code == "validation_invalid_old_password")
        #expect(try await fixture.auth.verify(token: first.token).recordId == user.id, "a refused change changes nothing")

        _ = try await fixture.auth.updateRecord(collection: "users", id: user.id, values: [
            "password": .string("battery staple"), "passwordConfirm": .string("battery staple"), "oldPassword": .string("correct horse"),
        ], by: first.identity)
        await #expect(throws: AuthError(.invalidToken, "The request requires valid authorization token.")) {
            try await fixture.auth.verify(token: first.token)
        }
        await #expect(throws: AuthError.self) {
            try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "correct horse", clientIP: "10.0.0.1")
        }
        _ = try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "battery staple", clientIP: "10.0.0.1")
        // Other fields change without touching the password or the sessions.
        let second = try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "battery staple", clientIP: "10.0.0.1")
        _ = try await fixture.auth.updateRecord(collection: "users", id: user.id, values: ["name": .string("Ada")], by: second.identity)
        #expect(try await fixture.auth.verify(token: second.token).record.values["name"] == .string("Ada"))
    }

    @Test func forgedExpiredForeignAndMalformedTokensAreRefused() async throws {
        let fixture = try await AuthFixture()
        try await fixture.user("ada@example.com")
        let token = try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "correct horse", clientIP: "10.0.0.1").token
        let other = try await AuthFixture()
        try await other.user("ada@example.com")
        let foreign = try await other.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "correct horse", clientIP: "10.0.0.1").token

        var parts = token.split(separator: ".").map(String.init)
        let forgedClaims = try JSONSerialization.data(withJSONObject: (try Self.payload(of: token)).merging(["exp": 4_000_000_000]) { $1 })
        parts[1] = forgedClaims.base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let forged = parts.joined(separator: ".")
        for bad in [forged, foreign, "", "Bearer ", "not.a.token", String(repeating: "a", count: 10_000), token + "x"] {
            await #expect(throws: AuthError.self, "token \(bad.prefix(40))") { try await fixture.auth.verify(token: bad) }
        }
        fixture.clock.advance(.seconds(7 * 24 * 3600 + 1))
        let expired = await #expect(throws: AuthError.self) { try await fixture.auth.verify(token: token) }
        #expect(expired?.code == .invalidToken)
    }

    @Test func theSecretIsCreatedOnceReadableOnlyByItsOwnerAndTokensSurviveARestart() async throws {
        let fixture = try await AuthFixture()
        try await fixture.user("ada@example.com")
        let token = try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "correct horse", clientIP: "10.0.0.1").token
        let path = fixture.dir.path("auth.secret").string
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(before.count == 64)
        let restarted = try await AuthFixture(dir: fixture.dir)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try await restarted.auth.verify(token: token).record.values["email"] == .string("ada@example.com"))
    }

    @Test func newAuthRecordsReportEveryProblemAtOnceAndCannotSetSystemFields() async throws {
        let fixture = try await AuthFixture()
        let invalid = await #expect(throws: RecordValidationError.self) {
            try await fixture.auth.createRecord(collection: "users", values: ["password": .string("short"), "passwordConfirm": .string("other")])
        }
        #expect(Set(invalid?.fields.keys.map { $0 } ?? []) == ["email", "password", "passwordConfirm"])
        #expect(invalid?.fields["password"]?.code == "validation_length_out_of_range")
        #expect(try await fixture.store.read { db in try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM users") } == 0)

        let user = try await fixture.auth.createRecord(collection: "users", values: [
            "email": .string("ada@example.com"), "password": .string("correct horse"), "passwordConfirm": .string("correct horse"),
            "verified": .bool(true), "tokenKey": .string("chosen"),
        ])
        #expect(user.values["verified"] == .bool(false), "only superusers may verify")
        let tokenKey = try await fixture.store.read { db in try String.fetchOne(db.sqlite, sql: "SELECT tokenKey FROM users") }
        #expect(tokenKey != "chosen")
        let stored = try await fixture.store.read { db in try String.fetchOne(db.sqlite, sql: "SELECT password FROM users") }
        #expect(stored?.hasPrefix("$2") == true && stored?.contains("correct horse") == false)

        let duplicate = await #expect(throws: RecordValidationError.self) { try await fixture.user("ADA@example.com") }
        #expect(duplicate?.fields["email"]?.code == "validation_not_unique")
        await #expect(throws: AuthError.self) {
            try await fixture.auth.createRecord(collection: "nope", values: ["email": .string("x@example.com")])
        }
    }

    @Test func hiddenFieldsCannotBeProbedThroughFiltersOrListed() async throws {
        let fixture = try await AuthFixture()
        try await fixture.user("ada@example.com")
        let page = try await RecordStore(store: fixture.store).list("users", ListQuery())
        #expect(page.items.count == 1 && page.items[0].values["password"] == nil)
        var query = ListQuery()
        query.filter = "password ~ '$2'"
        #expect(throws: (any Error).self) { try RecordStore(store: fixture.store).list("users", query) }
    }

    @Test func upsertSuperuserCreatesThenResetsThePasswordAndSignsOutOldSessions() async throws {
        let fixture = try await AuthFixture()
        #expect(try await fixture.auth.superuserCount() == 0)
        try await fixture.auth.upsertSuperuser(email: "root@example.com", password: "first password")
        #expect(try await fixture.auth.superuserCount() == 1)
        let first = try await fixture.auth.authWithPassword(collection: "_superusers", identity: "root@example.com", password: "first password", clientIP: "127.0.0.1")
        #expect(first.identity.isSuperuser)
        let claims = try Self.payload(of: first.token)
        #expect(Double(try #require(claims["exp"] as? Int)) - fixture.clock.now.timeIntervalSince1970 <= 24 * 3600)
        try await fixture.auth.upsertSuperuser(email: "root@example.com", password: "second password")
        #expect(try await fixture.auth.superuserCount() == 1)
        await #expect(throws: AuthError.self) { try await fixture.auth.verify(token: first.token) }
        _ = try await fixture.auth.authWithPassword(collection: "_superusers", identity: "root@example.com", password: "second password", clientIP: "127.0.0.1")
        await #expect(throws: RecordValidationError.self) { try await fixture.auth.upsertSuperuser(email: "root@example.com", password: "short") }
    }

    @Test func passwordsNeverReachTheAuditLog() async throws {
        let fixture = try await AuthFixture()
        let user = try await fixture.user("ada@example.com", "secret-horse-1")
        let session = try await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "secret-horse-1", clientIP: "10.0.0.1")
        _ = try? await fixture.auth.authWithPassword(collection: "users", identity: "ada@example.com", password: "secret-guess-2", clientIP: "10.0.0.1")
        _ = try await fixture.auth.updateRecord(collection: "users", id: user.id, values: [
            "password": .string("secret-horse-3"), "passwordConfirm": .string("secret-horse-3"), "oldPassword": .string("secret-horse-1"),
        ], by: session.identity)
        try await fixture.auth.upsertSuperuser(email: "root@example.com", password: "secret-root-4")
        let dump = try await fixture.store.read { db in
            try Row.fetchAll(db.sqlite, sql: "SELECT * FROM _audit").map { $0.description }.joined(separator: "\n")
        }
        #expect(!dump.isEmpty)
        #expect(!dump.contains("secret-"))
    }

    @Test func theAuditLogListsWithFiltersSortAndExactTotals() async throws {
        let fixture = try await AuthFixture()
        for index in 0..<7 {
            try await fixture.auth.audit.append(AuditEntry(action: index % 2 == 0 ? "record.create" : "record.delete", actor: "cli",
                collection: "patients", recordId: "r\(index)", fields: ["name"], at: fixture.clock.now.addingTimeInterval(Double(index))))
        }
        let creates = try await fixture.auth.audit.list(filter: "action = 'record.create' && collection = 'patients'", perPage: 2)
        #expect(creates.totalItems == 4 && creates.items.map(\.recordId) == ["r6", "r4"])
        #expect(creates.items[0].fields == ["name"])
        let oldest = try await fixture.auth.audit.list(sort: "at", perPage: 1)
        #expect(oldest.items.first?.recordId == "r0")
        #expect(throws: FilterError.self) { try fixture.auth.audit.list(filter: "secret = 1") }
        #expect(throws: FilterError.self) { try fixture.auth.audit.list(filter: "action = 'x' OR 1=1 --") }
    }
}
