import BurgAuth
import BurgCore
import BurgRecords
import BurgStore
@testable import BurgServer
import BurgTestSupport
import Configuration
import Foundation
import Hummingbird
import SystemPackage
import Testing
@testable import burg

/// Rate limits in PocketBase's `rateLimits` shape: the rule of the most specific label applies, per
/// client address; a PATCH applies at once; Burg's defaults let an office behind one address work.
@Suite struct RateLimitSettingsTests {
    static let tooMany: JSONValue = .object(["data": .object([:]), "message": "Too Many Requests.", "status": 429])

    @Test func aRuleListSentByPatchTakesEffectAtOnce() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let rules: JSONValue = ["enabled": true, "rules": [
                ["label": "GET /api/collections/users/records", "audience": "@guest", "duration": 60, "maxRequests": 2],
                ["label": "/api/", "duration": 60, "maxRequests": 1000],
            ]]
            let patched = try await server.call("PATCH", "/api/settings", ["rateLimits": rules], token: admin)
            #expect(patched.status == 200, "\(patched.json)")
            var statuses: [Int] = []
            var last: Reply?
            for _ in 0..<3 {
                let reply = try await server.call("GET", "/api/collections/users/records")
                statuses.append(reply.status)
                last = reply
            }
            #expect(statuses == [200, 200, 429], "\(statuses)")
            #expect(last?.json == Self.tooMany && (Int(last?.headers["retry-after"] ?? "") ?? 0) > 0, "\(String(describing: last))")
            // The @guest rule is not a signed-in caller's; a view of one record is another label.
            #expect(try await server.call("GET", "/api/collections/users/records", token: admin).status == 200)
            // Off: the next request passes.
            #expect(try await server.call("PATCH", "/api/settings", ["rateLimits": ["enabled": false]], token: admin).status == 200)
            #expect(try await server.call("GET", "/api/collections/users/records").status == 200)
        }
    }

    @Test func tokenRefreshesDoNotDrainThePasswordSignInBucket() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let patched = try await server.call("PATCH", "/api/settings", ["rateLimits": ["rules": [
                ["label": "*:auth", "duration": 3600, "maxRequests": 3], ["label": "/api/", "duration": 60, "maxRequests": 1000],
            ]]], token: admin)
            #expect(patched.status == 200)
            for _ in 0..<8 {
                #expect(try await server.call("POST", "/api/collections/_superusers/auth-refresh", token: admin).status == 200)
            }
            for _ in 0..<3 { _ = try await server.superuserToken() }
            let refused = try await server.call("POST", "/api/collections/_superusers/auth-with-password",
                .object(["identity": .string(LiveServer.superuser.0), "password": .string(LiveServer.superuser.1)]))
            #expect(refused.status == 429 && refused.json == Self.tooMany, "\(refused.json)")
        }
    }

    /// Forty people behind one NAT address sign up, sign in, refresh and work through a morning's
    /// burst of requests under Burg's default rules, without one 429.
    @Test func anOfficeBehindOneAddressIsNotLockedOutUnderTheDefaults() async throws {
        var auth = AuthSettings()
        auth.bcryptCost = 4
        try await InProcessServer.run(.live, auth: auth) { server in
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for person in 0..<40 {
                    group.addTask {
                        var seen: [Int] = []
                        let (_, token) = try await server.signUp("person\(person)@example.com")
                        seen.append(try await server.call("POST", "/api/collections/users/auth-refresh", token: token).status)
                        for _ in 0..<20 { seen.append(try await server.call("GET", "/api/collections/users/records", token: token).status) }
                        return seen
                    }
                }
                var all: [Int] = []
                for try await seen in group { all += seen }
                return all
            }
            #expect(statuses.count == 40 * 21 && statuses.allSatisfy { $0 == 200 }, "\(Set(statuses))")
        }
    }

    @Test func excludedAddressesAndTrustedProxyHeadersApplyAtOnce() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let patched = try await server.call("PATCH", "/api/settings", [
                "rateLimits": ["rules": [["label": "/api/collections/", "duration": 600, "maxRequests": 1], ["label": "/api/settings", "duration": 60, "maxRequests": 100]]],
                "trustedProxy": ["headers": ["X-Forwarded-For"]],
            ], token: admin)
            #expect(patched.status == 200, "\(patched.json)")
            func list(from address: String) async throws -> Int {
                try await server.send("GET", "/api/collections/users/records", headers: ["X-Forwarded-For": "\(address), 10.9.9.9"]).status
            }
            // The rightmost address of the trusted header is the client: each has a bucket of its own.
            #expect(try await server.send("GET", "/api/collections/users/records", headers: ["X-Forwarded-For": "203.0.113.1"]).status == 200)
            #expect(try await server.send("GET", "/api/collections/users/records", headers: ["X-Forwarded-For": "203.0.113.1"]).status == 429)
            #expect(try await server.send("GET", "/api/collections/users/records", headers: ["X-Forwarded-For": "203.0.113.2"]).status == 200)
            #expect(try await list(from: "198.51.100.7") == 200)
            #expect(try await list(from: "198.51.100.8") == 429, "the same rightmost address 10.9.9.9")
            #expect(try await server.call("PATCH", "/api/settings", ["rateLimits": ["excludedIPs": ["203.0.113.0/24"]]], token: admin).status == 200)
            for _ in 0..<3 {
                #expect(try await server.send("GET", "/api/collections/users/records", headers: ["X-Forwarded-For": "203.0.113.1"]).status == 200)
            }
        }
    }

    @Test func theMostSpecificLabelWins() {
        var settings = RateLimitSettings()
        settings.enabled = true
        settings.rules = [
            RateLimitRule(label: "/api/", duration: 1, maxRequests: 1),
            RateLimitRule(label: "/api/collections/", duration: 1, maxRequests: 1),
            RateLimitRule(label: "*:create", duration: 1, maxRequests: 1),
            RateLimitRule(label: "posts:create", duration: 1, maxRequests: 1),
            RateLimitRule(label: "POST /api/batch", audience: "@auth", duration: 1, maxRequests: 1),
        ]
        let plan = RateLimitPlan(settings)
        func rule(_ method: HTTPRequest.Method, _ path: String, auth: Bool = false) -> String? {
            plan.rule(method: method, path: path, authenticated: auth).map { settings.rules[$0.index].label }
        }
        #expect(rule(.post, "/api/collections/posts/records") == "posts:create")
        #expect(rule(.post, "/api/collections/tags/records") == "*:create")
        #expect(rule(.get, "/api/collections/tags/records") == "/api/collections/")
        #expect(rule(.get, "/api/settings") == "/api/")
        #expect(rule(.post, "/api/batch", auth: true) == "POST /api/batch")
        #expect(rule(.post, "/api/batch") == "/api/")
        #expect(rule(.post, "/api/collections/users/auth-refresh") == "/api/collections/")
    }

    @Test func explicitlySetStaticSettingsPinTheKeysTheyName() async throws {
        let dir = try TemporaryDirectory()
        let read = try await BurgSettings.load(dataDir: dir.path("data"), configFile: nil, flags: ["server.batchMaxRequests": .int(7)],
                                               environment: ["BURG_AUTH_BURST": "10"])
        let settings = try ServeSettings(read, dataDirectory: dir.path("data"))
        let pins = settings.server.settingsPins
        #expect(pins.first { $0.path == "batch.maxRequests" } == SettingPin(path: "batch.maxRequests", value: 7, origin: "--batch-max-requests"))
        let rules = try #require(pins.first { $0.path == "rateLimits.rules" })
        #expect(rules.origin == "BURG_AUTH_BURST")
        guard case .array(let list) = rules.value else { throw TestFailure("rules are not a list: \(rules.value)") }
        #expect(list.contains(["label": "*:auth", "audience": "", "duration": 5, "maxRequests": 10]), "\(list)")
        // Nothing set explicitly: nothing pinned.
        let plain = try ServeSettings(try await BurgSettings.load(dataDir: dir.path("data"), configFile: nil, environment: [:]), dataDirectory: dir.path("data"))
        #expect(plain.server.settingsPins.isEmpty)
    }

    /// `--rate-limits-enabled false`: no rule limits anything, and the API cannot turn them back on.
    @Test func rateLimitsTurnedOffByTheStaticConfigurationStayOff() async throws {
        let dir = try TemporaryDirectory()
        let read = try await BurgSettings.load(dataDir: dir.path("data"), configFile: nil, flags: ["rateLimit.enabled": .bool(false)], environment: [:])
        let serve = try ServeSettings(read, dataDirectory: dir.path("data"))
        #expect(serve.server.settingsPins == [SettingPin(path: "rateLimits.enabled", value: false, origin: "--rate-limits-enabled")])
        var configuration = serve.server
        configuration.host = "127.0.0.1"
        try await InProcessServer.run(configuration: configuration) { server in
            let admin = try await server.superuserToken()
            // Far beyond the default `*:create` rule (300 per 10 s) and the `/api/` rule's burst.
            var statuses = Set<Int>()
            for _ in 0..<320 { statuses.insert(try await server.call("POST", "/api/collections/users/records", ["email": "x"]).status) }
            #expect(!statuses.contains(429), "\(statuses)")
            let patched = try await server.call("PATCH", "/api/settings", ["rateLimits": ["enabled": true]], token: admin)
            #expect(patched.status == 400 && SettingsAPITests.at(patched.json, "data.rateLimits.enabled.code") == "validation_pinned", "\(patched.json)")
            #expect(SettingsAPITests.at(try await server.call("GET", "/api/settings", token: admin).json, "rateLimits.enabled") == false)
        }
    }

    /// Settings another process saved on the same data directory come into force without a restart.
    @Test func settingsSavedByAnotherProcessComeIntoForce() async throws {
        var configuration = ServerConfiguration()
        configuration.settingsRefreshInterval = .milliseconds(50)
        try await InProcessServer.run(.live, configuration: configuration) { server in
            #expect(try await server.call("GET", "/api/collections/users/records").status == 200)
            // Another process: its own store and settings over the same database.
            let other = try Store(StoreConfiguration(dataDirectory: FilePath(server.dataDir)), migrations: BurgSchema.migrations)
            let otherSettings = RuntimeSettings()
            try await otherSettings.load(from: other)
            _ = try await otherSettings.update(["rateLimits": ["enabled": true, "rules": [
                ["label": "GET /api/collections/users/records", "duration": 600, "maxRequests": 1],
            ]]], in: other)
            var limited = false
            for _ in 0..<100 where !limited {
                try await Task.sleep(for: .milliseconds(20))
                limited = try await server.call("GET", "/api/collections/users/records").status == 429
            }
            #expect(limited, "the other process's rule never came into force")
        }
    }
}
