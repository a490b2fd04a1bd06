import BurgAuth
import BurgCore
import BurgRecords
@testable import BurgServer
import BurgStore
import BurgTestSupport
import Foundation
import Testing

/// `/api/settings` as PocketBase 0.40 answers it (the captured exchanges are the reference): the keys
/// in its order, merging PATCHes, its field errors, secrets never answered; stored in the data
/// directory's database and in force at once.
@Suite struct SettingsAPITests {
    /// PocketBase 0.40.6's answer to `GET /api/settings` on a fresh instance, as captured.
    static let pocketBaseDefaults = ##"{"superuserIPs":[],"smtp":{"enabled":false,"port":587,"host":"smtp.example.com","username":"","authMethod":"","tls":false,"localName":""},"backups":{"cron":"","cronMaxKeep":3,"s3":{"enabled":false,"bucket":"","region":"","endpoint":"","accessKey":"","forcePathStyle":false}},"s3":{"enabled":false,"bucket":"","region":"","endpoint":"","accessKey":"","forcePathStyle":false},"meta":{"accentColor":"#1055c9","appName":"Acme","appURL":"http://localhost:8090","senderName":"Support","senderAddress":"support@example.com","hideControls":false},"rateLimits":{"rules":[{"label":"*:auth","audience":"","duration":3,"maxRequests":2},{"label":"*:create","audience":"","duration":5,"maxRequests":20},{"label":"/api/batch","audience":"","duration":1,"maxRequests":3},{"label":"/api/","audience":"","duration":10,"maxRequests":300}],"excludedIPs":[],"enabled":false},"trustedProxy":{"headers":[],"useLeftmostIP":false},"batch":{"enabled":false,"maxRequests":50,"timeout":3,"maxBodySize":0},"logs":{"maxDataSize":0,"maxDays":5,"minLevel":0,"logIP":true,"logAuthId":false}}"##

    /// Burg's deliberate differences from those defaults (docs/COMPATIBILITY.md): batches and rate limits on.
    static let burgRateLimits = #"{"rules":[{"label":"*:auth","audience":"","duration":50,"maxRequests":100},{"label":"*:create","audience":"","duration":10,"maxRequests":300},{"label":"/api/batch","audience":"","duration":10,"maxRequests":100},{"label":"/api/","audience":"","duration":30,"maxRequests":3000}],"excludedIPs":[],"enabled":true}"#

    static let savingFailed = "An error occurred while saving the new settings."

    // MARK: Helpers

    /// The key paths of a JSON text's objects in the order written (`smtp`, `smtp.enabled`, …; list
    /// items by position), which a parsed value forgets.
    static func keyPaths(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var index = 0
        var paths: [String] = []
        func skipSpace() { while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 } }
        func string() -> String {
            index += 1
            var out: [UInt8] = []
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                if bytes[index] == UInt8(ascii: "\\") { out.append(bytes[index]); index += 1 }
                out.append(bytes[index])
                index += 1
            }
            index += 1
            return String(decoding: out, as: UTF8.self)
        }
        func value(_ prefix: String) {
            skipSpace()
            guard index < bytes.count else { return }
            switch bytes[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = bytes[index] == UInt8(ascii: "{")
                index += 1
                var position = 0
                while true {
                    skipSpace()
                    if bytes[index] == UInt8(ascii: "}") || bytes[index] == UInt8(ascii: "]") { index += 1; return }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; skipSpace() }
                    var path = prefix
                    if isObject {
                        let key = string()
                        path = prefix.isEmpty ? key : prefix + "." + key
                        paths.append(path)
                        skipSpace()
                        index += 1  // ':'
                    } else {
                        path = prefix + ".\(position)"
                        position += 1
                    }
                    value(path)
                }
            case UInt8(ascii: "\""): _ = string()
            default:
                while index < bytes.count, !",]} \n".utf8.contains(bytes[index]) { index += 1 }
            }
        }
        value("")
        return paths
    }

    static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

    /// The value at `a.b.c` of a JSON value.
    static func at(_ value: JSONValue, _ path: String) -> JSONValue? {
        var node = value
        for key in path.split(separator: ".") {
            guard case .object(let object) = node, let next = object[String(key)] else { return nil }
            node = next
        }
        return node
    }

    /// The answer's raw text, for the key order.
    static func rawSettings(_ server: InProcessServer, token: String) async throws -> (status: Int, text: String) {
        let reply = try await server.raw("GET", "/api/settings", token: token)
        return (reply.status, String(decoding: reply.body, as: UTF8.self))
    }

    static func patch(_ server: InProcessServer, _ body: JSONValue, token: String) async throws -> Reply {
        try await server.call("PATCH", "/api/settings", body, token: token)
    }

    // MARK: Shape

    @Test func theDefaultsHavePocketBasesKeysInItsOrderAndDifferOnlyWhereDocumented() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let (status, text) = try await Self.rawSettings(server, token: admin)
            #expect(status == 200)
            #expect(Self.keyPaths(text) == Self.keyPaths(Self.pocketBaseDefaults), "\(text)")
            guard case .object(var expected) = try Self.json(Self.pocketBaseDefaults) else { throw TestFailure("not an object") }
            expected["rateLimits"] = try Self.json(Self.burgRateLimits)
            expected["batch"] = try Self.json(#"{"enabled":true,"maxRequests":50,"timeout":3,"maxBodySize":0}"#)
            #expect(try Self.json(text) == .object(expected), "\(text)")
        }
    }

    @Test func aPatchMergesTheSectionsSentAndAnswersTheWholeObject() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let before = try await server.call("GET", "/api/settings", token: admin)
            let reply = try await server.raw("PATCH", "/api/settings",
                body: Data(#"{"meta":{"appName":"Capture App","senderName":"Capture","senderAddress":"noreply@example.com"}}"#.utf8),
                contentType: "application/json", token: admin)
            let text = String(decoding: reply.body, as: UTF8.self)
            #expect(reply.status == 200)
            #expect(Self.keyPaths(text) == Self.keyPaths(Self.pocketBaseDefaults), "the whole object, in order: \(text)")
            let answer = try Self.json(text)
            #expect(Self.at(answer, "meta.appName") == "Capture App" && Self.at(answer, "meta.senderAddress") == "noreply@example.com")
            // Keys not sent keep their values; other sections are untouched.
            #expect(Self.at(answer, "meta.appURL") == "http://localhost:8090" && Self.at(answer, "meta.accentColor") == "#1055c9")
            #expect(Self.at(answer, "smtp") == Self.at(before.json, "smtp") && Self.at(answer, "rateLimits") == Self.at(before.json, "rateLimits"))
            #expect(try await server.call("GET", "/api/settings", token: admin).json == answer)
            // A list is replaced whole.
            let proxies = try await Self.patch(server, ["trustedProxy": ["headers": ["X-Real-IP", "X-Forwarded-For"]]], token: admin)
            #expect(Self.at(proxies.json, "trustedProxy") == ["headers": ["X-Real-IP", "X-Forwarded-For"], "useLeftmostIP": false])
            let one = try await Self.patch(server, ["trustedProxy": ["headers": ["X-Real-IP"]]], token: admin)
            #expect(Self.at(one.json, "trustedProxy.headers") == ["X-Real-IP"])
        }
    }

    @Test func secretsAreKeptForTheServerButNeverAnswered() async throws {
        let settings = RuntimeSettings()
        try await InProcessServer.run(settings: settings) { server in
            let admin = try await server.superuserToken()
            let reply = try await server.raw("PATCH", "/api/settings", body: Data(#"""
                {"smtp":{"enabled":true,"host":"127.0.0.1","port":18095,"username":"mailer","password":"SMTP-SECRET-1"},
                 "s3":{"enabled":false,"bucket":"b","region":"r","endpoint":"https://s3.example.com","accessKey":"AK","secret":"S3-SECRET-2"},
                 "backups":{"s3":{"secret":"S3-SECRET-3"}}}
                """#.utf8), contentType: "application/json", token: admin)
            let text = String(decoding: reply.body, as: UTF8.self)
            #expect(reply.status == 200)
            let got = try await Self.rawSettings(server, token: admin).text
            for answer in [text, got] {
                #expect(!answer.contains("SECRET") && !answer.contains("\"password\"") && !answer.contains("\"secret\""), "\(answer)")
            }
            #expect(Self.at(try Self.json(text), "s3.accessKey") == "AK")
            // What a mail sender reads at send time.
            #expect(settings.mail.smtp.password == "SMTP-SECRET-1" && settings.mail.smtp.host == "127.0.0.1" && settings.mail.smtp.port == 18095)
            #expect(settings.current.s3.secret == "S3-SECRET-2" && settings.current.backups.s3.secret == "S3-SECRET-3")
            // A PATCH without the secret keeps it.
            _ = try await Self.patch(server, ["smtp": ["username": "other"]], token: admin)
            #expect(settings.mail.smtp.password == "SMTP-SECRET-1" && settings.mail.smtp.username == "other")
        }
    }

    // MARK: Validation

    @Test func invalidValuesGetPocketBasesFieldErrorsAndChangeNothing() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            // As in the capture, SMTP is on when the invalid values arrive (so its port is required).
            #expect(try await Self.patch(server, ["smtp": ["enabled": true, "host": "127.0.0.1", "port": 18095]], token: admin).status == 200)
            let before = try await server.call("GET", "/api/settings", token: admin).json
            let cases: [(body: String, answer: String)] = [
                (#"{"meta":{"appURL":"not a url","senderAddress":"bad"},"logs":{"maxDays":-1},"smtp":{"port":0},"batch":{"maxRequests":-1}}"#,
                 #"{"data":{"batch":{"maxRequests":{"code":"validation_min_greater_equal_than_required","message":"Must be no less than 0.","params":{"threshold":0}}},"logs":{"maxDays":{"code":"validation_min_greater_equal_than_required","message":"Must be no less than 0.","params":{"threshold":0}}},"meta":{"appURL":{"code":"validation_is_url","message":"Must be a valid URL."},"senderAddress":{"code":"validation_is_email","message":"Must be a valid email address."}},"smtp":{"port":{"code":"validation_required","message":"Cannot be blank."}}},"message":"An error occurred while saving the new settings.","status":400}"#),
                (#"{"rateLimits":{"rules":[{"label":"","audience":"nobody","duration":0,"maxRequests":0}]}}"#,
                 #"{"data":{"rateLimits":{"rules":{"0":{"audience":{"code":"validation_in_invalid","message":"Must be a valid value."},"duration":{"code":"validation_required","message":"Cannot be blank."},"label":{"code":"validation_required","message":"Cannot be blank."},"maxRequests":{"code":"validation_required","message":"Cannot be blank."}}}}},"message":"An error occurred while saving the new settings.","status":400}"#),
                (#"{"backups":{"cron":"every day"}}"#,
                 #"{"data":{"backups":{"cron":{"code":"validation_invalid_cron","message":"Invalid cron expression - must be a valid macro or to have exactly 5 space separated segments."}}},"message":"An error occurred while saving the new settings.","status":400}"#),
            ]
            for (body, answer) in cases {
                let reply = try await server.call("PATCH", "/api/settings", token: admin, rawBody: Data(body.utf8))
                #expect(reply.status == 400)
                let expected = try Self.json(answer)
                #expect(reply.json == expected, "\(body) → \(reply.json)")
            }
            // Burg's checks beyond the capture, in PocketBase's codes.
            let conflicting = try await Self.patch(server, ["rateLimits": ["rules": [
                ["label": "*:auth", "duration": 3, "maxRequests": 2], ["label": "*:auth", "audience": "@guest", "duration": 3, "maxRequests": 2],
            ]]], token: admin)
            #expect(Self.at(conflicting.json, "data.rateLimits.rules.1.label.code") == "validation_conflicting_rate_limit_rule", "\(conflicting.json)")
            let badLabel = try await Self.patch(server, ["rateLimits": ["rules": [["label": "not a label!", "duration": 3, "maxRequests": 2]]]], token: admin)
            #expect(Self.at(badLabel.json, "data.rateLimits.rules.0.label.code") == "validation_match_invalid", "\(badLabel.json)")
            let badIP = try await Self.patch(server, ["rateLimits": ["excludedIPs": ["10.0.0.0/8", "nowhere"]]], token: admin)
            #expect(Self.at(badIP.json, "data.rateLimits.excludedIPs.1.code") == "validation_invlaid_ip_or_subnet", "\(badIP.json)")
            #expect(badIP["message"] == .string(Self.savingFailed))
            #expect(try await server.call("GET", "/api/settings", token: admin).json == before)
        }
    }

    @Test func unknownTopLevelKeysAreIgnored() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let before = try await server.call("GET", "/api/settings", token: admin).json
            let reply = try await Self.patch(server, ["nosuch": ["a": 1]], token: admin)
            #expect(reply.status == 200 && reply.json == before)
            let mixed = try await Self.patch(server, ["nosuch": 1, "logs": ["maxDays": 9]], token: admin)
            #expect(mixed.status == 200 && Self.at(mixed.json, "logs.maxDays") == 9 && Self.at(mixed.json, "nosuch") == nil)
        }
    }

    @Test(arguments: ["{", "[1,2]", "\"text\"", #"{"smtp":{"port":"abc"}}"#, #"{"smtp":5}"#, #"{"batch":{"maxRequests":1.5}}"#,
                      #"{"rateLimits":{"rules":[1]}}"#, #"{"superuserIPs":"10.0.0.1"}"#])
    func malformedBodiesAre400AndChangeNothing(body: String) async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let before = try await server.call("GET", "/api/settings", token: admin).json
            let reply = try await server.call("PATCH", "/api/settings", token: admin, rawBody: Data(body.utf8))
            #expect(reply.status == 400 && reply["message"] == "An error occurred while loading the submitted data.", "\(reply.json)")
            #expect(try await server.call("GET", "/api/settings", token: admin).json == before)
        }
    }

    @Test func guestsAreAskedToSignInAndOtherUsersAreRefused() async throws {
        try await InProcessServer.run { server in
            let user = try await server.signUp("alice@example.com").token
            for method in ["GET", "PATCH"] {
                let guest = try await server.call(method, "/api/settings", method == "PATCH" ? ["meta": ["appName": "x"]] : nil)
                let unauthorized = try Self.json(#"{"data":{},"message":"The request requires valid record authorization token.","status":401}"#)
                #expect(guest.status == 401 && guest.json == unauthorized, "\(guest.json)")
                let other = try await server.call(method, "/api/settings", method == "PATCH" ? ["meta": ["appName": "x"]] : nil, token: user)
                let forbidden = try Self.json(#"{"data":{},"message":"The authorized record is not allowed to perform this action.","status":403}"#)
                #expect(other.status == 403 && other.json == forbidden, "\(other.json)")
            }
            let admin = try await server.superuserToken()
            #expect(Self.at(try await server.call("GET", "/api/settings", token: admin).json, "meta.appName") == "Acme")
        }
    }

    // MARK: Storage and effect

    @Test func settingsSurviveARestart() async throws {
        let dir = try TemporaryDirectory()
        try await InProcessServer.run(directory: dir) { server in
            let admin = try await server.superuserToken()
            let reply = try await Self.patch(server, ["meta": ["appName": "Clinic"], "batch": ["maxRequests": 7],
                                                      "smtp": ["host": "mail.example.com", "password": "kept"]], token: admin)
            #expect(reply.status == 200)
        }
        let settings = RuntimeSettings()
        try await InProcessServer.run(directory: dir, settings: settings) { server in
            let admin = try await server.superuserToken()
            let answer = try await server.call("GET", "/api/settings", token: admin).json
            #expect(Self.at(answer, "meta.appName") == "Clinic" && Self.at(answer, "batch.maxRequests") == 7
                    && Self.at(answer, "smtp.host") == "mail.example.com", "\(answer)")
            #expect(Self.at(answer, "meta.appURL") == "http://localhost:8090")
            #expect(settings.mail.smtp.password == "kept")
        }
    }

    @Test func batchSettingsTakeEffectAtOnce() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let item: JSONValue = ["method": "POST", "url": "/api/collections/users/records",
                                   "body": ["email": "b@example.com", "password": "long enough pass", "passwordConfirm": "long enough pass"]]
            func batch(_ items: [JSONValue], padding: Int = 0) async throws -> Reply {
                var body: [String: JSONValue] = ["requests": .array(items)]
                if padding > 0 { body["padding"] = .string(String(repeating: "x", count: padding)) }
                return try await server.call("POST", "/api/batch", .object(body), token: admin)
            }
            #expect(try await Self.patch(server, ["batch": ["enabled": false]], token: admin).status == 200)
            let off = try await batch([item])
            #expect(off.status == 403 && off["message"] == "Batch requests are not allowed.", "\(off.json)")
            #expect(try await Self.patch(server, ["batch": ["enabled": true, "maxRequests": 2]], token: admin).status == 200)
            let tooMany = try await batch([item, item, item])
            #expect(tooMany.status == 400 && Self.at(tooMany.json, "data.requests.code") == "validation_length_too_long", "\(tooMany.json)")
            #expect(try await Self.patch(server, ["batch": ["maxBodySize": 1000]], token: admin).status == 200)
            let large = try await batch([item], padding: 2000)
            #expect(large.status == 413, "\(large.json)")
        }
    }

    @Test func aKeyPinnedByTheStaticConfigurationIsShownAndItsChangeRefused() async throws {
        var configuration = ServerConfiguration()
        configuration.batchMaxRequests = 7
        configuration.settingsPins = [SettingPin(path: "batch.maxRequests", value: 7, origin: "--batch-max-requests")]
        let dir = try TemporaryDirectory()
        try await InProcessServer.run(configuration: configuration, directory: dir) { server in
            let admin = try await server.superuserToken()
            #expect(Self.at(try await server.call("GET", "/api/settings", token: admin).json, "batch.maxRequests") == 7)
            let refused = try await Self.patch(server, ["batch": ["maxRequests": 9], "meta": ["appName": "Not saved"]], token: admin)
            #expect(refused.status == 400 && Self.at(refused.json, "data.batch.maxRequests.code") == "validation_pinned", "\(refused.json)")
            guard case .string(let message)? = Self.at(refused.json, "data.batch.maxRequests.message") else { throw TestFailure("no message") }
            #expect(message.contains("--batch-max-requests"))
            // The same value (a settings object fetched and saved back) and the keys it does not pin pass.
            let same = try await Self.patch(server, ["batch": ["maxRequests": 7, "timeout": 5]], token: admin)
            #expect(same.status == 200 && Self.at(same.json, "batch.timeout") == 5 && Self.at(same.json, "meta.appName") == "Acme")
        }
        // Without the pin, the stored and default values are editable again.
        try await InProcessServer.run(directory: dir) { server in
            let admin = try await server.superuserToken()
            #expect(Self.at(try await Self.patch(server, ["batch": ["maxRequests": 9]], token: admin).json, "batch.maxRequests") == 9)
        }
    }

    @Test func superuserIPsRefuseASuperuserFromAnyOtherAddress() async throws {
        try await InProcessServer.run(.live) { server in
            let admin = try await server.superuserToken()
            let allowed = try await Self.patch(server, ["superuserIPs": ["127.0.0.0/8", "::1"]], token: admin)
            #expect(allowed.status == 200 && Self.at(allowed.json, "superuserIPs") == ["127.0.0.0/8", "::1"])
            #expect(try await server.call("GET", "/api/settings", token: admin).status == 200)
            #expect(try await Self.patch(server, ["superuserIPs": ["10.1.0.0/16"]], token: admin).status == 200)
            #expect(try await server.call("GET", "/api/settings", token: admin).status == 403)
            #expect(try await server.call("GET", "/api/collections", token: admin).status == 403)
        }
    }
}
