import BurgCore
import BurgRecords
import Foundation
import BurgTestSupport
import Testing

/// The records API, in process through `buildApplication`: CRUD, paging, filters, rules, and bad
/// input refused with PocketBase's error shape and nothing changed.
@Suite struct RecordsAPITests {
    static let parts: JSONValue = .object([
        "name": "parts", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": .null,
        "fields": .array([
            .object(["name": "code", "type": "text", "required": true, "unique": true]),
            .object(["name": "qty", "type": "number"]),
            .object(["name": "status", "type": "select", "values": .array(["open", "done"])]),
        ]),
    ])

    /// The SDKs' usual update: fetch a record, change a value, save the whole object back. Its
    /// `collectionId`, `collectionName`, `expand`, `created`, `updated` and keys the schema no longer has
    /// are ignored, as PocketBase ignores them.
    @Test func aFetchedRecordSavedBackWholeIsAcceptedAndItsExtraKeysIgnored() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let notes: JSONValue = .object(["name": "memos", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
                                            "fields": .array([.object(["name": "title", "type": "text"]), .object(["name": "body", "type": "text"])])])
            #expect(try await server.call("POST", "/api/collections", notes, token: admin).status == 200)
            let created = try await server.call("POST", "/api/collections/memos/records", .object(["title": "first", "body": "b"]))
            guard case .object(var record) = created.json, let id = record["id"]?.text else { throw TestFailure("no record: \(created.json)") }
            record["title"] = "second"
            record["expand"] = .object([:])
            record["removedLongAgo"] = "x"
            let saved = try await server.call("PATCH", "/api/collections/memos/records/\(id)", .object(record))
            #expect(saved.status == 200, "\(saved.json)")
            #expect(saved["title"] == "second" && saved["body"] == "b" && saved["removedLongAgo"] == nil, "\(saved.json)")
            #expect(saved["created"] == created["created"] && saved["collectionName"] == "memos")
            // A create carrying the same extra keys is accepted the same way.
            let copy = try await server.call("POST", "/api/collections/memos/records", .object(["title": "copy", "collectionName": "other", "expand": .object([:]), "nope": 1]))
            #expect(copy.status == 200 && copy["collectionName"] == "memos" && copy["nope"] == nil, "\(copy.json)")
        }
    }

    @Test func crudPagingFilterAndSortOverHTTP() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let created = try await server.call("POST", "/api/collections", Self.parts, token: admin)
            #expect(created.status == 200, "\(created.json)")

            for index in 1...25 {
                let reply = try await server.call("POST", "/api/collections/parts/records",
                    .object(["code": .string("P\(index)"), "qty": .number(Double(index)), "status": .string(index % 5 == 0 ? "done" : "open")]))
                #expect(reply.status == 200, "\(reply.json)")
            }
            let page = try await server.call("GET", "/api/collections/parts/records?page=3&perPage=10&sort=-qty")
            #expect(page["totalItems"] == .number(25) && page["totalPages"] == .number(3) && page["page"] == .number(3))
            guard case .array(let items)? = page["items"] else { Issue.record("no items: \(page.json)"); return }
            #expect(items.count == 5)
            if case .object(let first) = items[0] { #expect(first["qty"] == .number(5) && first["collectionName"] == "parts") }
            let past = try await server.call("GET", "/api/collections/parts/records?page=9&perPage=10")
            #expect(past["items"] == .array([]) && past["totalItems"] == .number(25))

            let filtered = try await server.call("GET", "/api/collections/parts/records?filter=" + "status = 'done' && qty >= 10".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(filtered["totalItems"] == .number(4), "\(filtered.json)")
            let skip = try await server.call("GET", "/api/collections/parts/records?skipTotal=1&perPage=2")
            #expect(skip["totalItems"] == .number(-1))

            guard case .object(let one)? = items.first.map({ $0 }), case .string(let id)? = one["id"] else { return }
            let view = try await server.call("GET", "/api/collections/parts/records/\(id)")
            #expect(view.status == 200 && view["code"] == "P5")
            let patched = try await server.call("PATCH", "/api/collections/parts/records/\(id)", .object(["qty": 500]))
            #expect(patched.status == 200 && patched["qty"] == .number(500) && patched["code"] == "P5")
            // The delete rule is null: superusers only.
            let anonymousDelete = try await server.call("DELETE", "/api/collections/parts/records/\(id)")
            #expect(anonymousDelete.status == 403)
            let deleted = try await server.call("DELETE", "/api/collections/parts/records/\(id)", token: admin)
            #expect(deleted.status == 204)
            let gone = try await server.call("GET", "/api/collections/parts/records/\(id)")
            #expect(gone.status == 404 && gone["status"] == .number(404) && gone["message"] != nil)

            // Every change is in the audit log (names of fields, never values); only superusers read it.
            #expect(try await server.call("GET", "/api/audit").status == 401, "a guest is asked to sign in, as PocketBase asks")
            let audit = try await server.call("GET", "/api/audit?perPage=100&filter=" + "collection = 'parts'".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, token: admin)
            guard case .array(let entries)? = audit["items"] else { Issue.record("no audit: \(audit.json)"); return }
            let actions = entries.compactMap { entry -> String? in if case .object(let o) = entry, case .string(let a)? = o["action"] { a } else { nil } }
            #expect(actions.filter { $0 == "record.create" }.count == 25 && actions.contains("record.update") && actions.contains("record.delete"))
            #expect(actions.contains("schema.create"))
            #expect(!"\(audit.json)".contains("P17") && "\(audit.json)".contains("qty"))
        }
    }

    @Test func badInputGetsAClearErrorAndChangesNothing() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            _ = try await server.call("POST", "/api/collections", Self.parts, token: admin)
            _ = try await server.call("POST", "/api/collections/parts/records", .object(["code": "A1"]))

            let malformed = try await server.call("POST", "/api/collections/parts/records", rawBody: Data("{\"code\": ".utf8))
            #expect(malformed.status == 400)
            let wrongTypes = try await server.call("POST", "/api/collections/parts/records", .object(["code": .number(1.5), "qty": "many", "status": "lost"]))
            #expect(wrongTypes.status == 400)
            if case .object(let data)? = wrongTypes["data"] {
                #expect(Set(data.keys) == ["qty", "status"])
                if case .object(let qty)? = data["qty"] { #expect(qty["code"] == "validation_invalid_number") }
            } else {
                Issue.record("no field errors: \(wrongTypes.json)")
            }
            let duplicate = try await server.call("POST", "/api/collections/parts/records", .object(["code": "A1"]))
            #expect(duplicate.status == 400)
            let oversized = try await server.call("POST", "/api/collections/parts/records",
                rawBody: Data(("{\"code\": \"" + String(repeating: "x", count: 33 << 20) + "\"}").utf8))
            #expect(oversized.status == 413)
            let unknownFilter = try await server.call("GET", "/api/collections/parts/records?filter=secret%20%3D%201")
            #expect(unknownFilter.status == 400 && "\(unknownFilter.json)".contains("secret"))
            let unknownSort = try await server.call("GET", "/api/collections/parts/records?sort=-nothing")
            #expect(unknownSort.status == 400)
            let injection = try await server.call("GET", "/api/collections/parts/records?filter=" + "code = \"x' OR 1=1 --\"".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(injection.status == 200 && injection["totalItems"] == .number(0))
            let badToken = try await server.call("GET", "/api/collections/parts/records", token: "Bearer not.a.token")
            #expect(badToken.status == 401)
            let noCollection = try await server.call("GET", "/api/collections/nope/records")
            #expect(noCollection.status == 404)
            let badPage = try await server.call("GET", "/api/collections/parts/records?page=abc")
            #expect(badPage.status == 400)
            // PocketBase reads a page below 1 as the first page.
            let pageZero = try await server.call("GET", "/api/collections/parts/records?page=0")
            #expect(pageZero.status == 200 && pageZero["page"] == .number(1))
            #expect(try await server.call("POST", "/api/collections/nope/records", .object(["code": "A2"])).status == 404)
            // A collection whose create rule is null takes creates from superusers only.
            let ledger: JSONValue = .object(["name": "ledger", "listRule": "", "createRule": .null,
                                             "fields": .array([.object(["name": "entry", "type": "text"])])])
            #expect(try await server.call("POST", "/api/collections", ledger, token: admin).status == 200)
            #expect(try await server.call("POST", "/api/collections/ledger/records", .object(["entry": "guest"])).status == 403)
            #expect(try await server.call("POST", "/api/collections/ledger/records", .object(["entry": "admin"]), token: admin).status == 200)
            #expect(try await server.call("GET", "/api/collections/ledger/records")["totalItems"] == .number(1))
            // Nothing of that changed anything.
            let all = try await server.call("GET", "/api/collections/parts/records")
            #expect(all["totalItems"] == .number(1))
            #expect(!"\(all.json)\(unknownFilter.json)\(malformed.json)".contains("SELECT"))
        }
    }

    /// A collection in PocketBase's own shape names its relation's target by `collectionId`: accepted,
    /// answered with it, and expand follows it; an unknown id is a 400 at that field and creates nothing.
    @Test func aRelationByCollectionIdIsAcceptedAndAnUnknownOneRefusedAtItsField() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let users = try await server.call("GET", "/api/collections/users", token: admin)
            let usersID = try #require(users["id"]?.text)
            let created = try await server.call("POST", "/api/collections", .object([
                "name": "tasks", "listRule": "", "viewRule": "",
                "fields": .array([.object(["name": "title", "type": "text"]),
                                  .object(["name": "assignee", "type": "relation", "collectionId": .string(usersID), "maxSelect": 1])]),
            ]), token: admin)
            #expect(created.status == 200, "\(created.json)")
            #expect("\(created.json)".contains("\"collectionId\":\"\(usersID)\""), "\(created.json)")
            let ann = try await server.signUp("ann@example.org")
            let task = try await server.call("POST", "/api/collections/tasks/records", .object(["title": "file taxes", "assignee": .string(ann.id)]), token: admin)
            let taskID = try #require(task["id"]?.text)
            let expanded = try await server.call("GET", "/api/collections/tasks/records/\(taskID)?expand=assignee", token: admin)
            #expect("\(expanded.json)".contains("ann@example.org"), "\(expanded.json)")

            let refused = try await server.call("POST", "/api/collections", .object([
                "name": "chores",
                "fields": .array([.object(["name": "owner", "type": "relation", "collectionId": "pbc_nosuchcollect"])]),
            ]), token: admin)
            #expect(refused.status == 400, "\(refused.json)")
            #expect("\(refused.json)".contains("owner") && "\(refused.json)".contains("pbc_nosuchcollect"), "\(refused.json)")
            #expect(try await server.call("GET", "/api/collections/chores", token: admin).status == 404)
        }
    }

    /// `DELETE /api/collections/{c}` of a collection holding records answers 204 as PocketBase's does,
    /// and `burg collections restore` (beside the running server) brings it back with its records.
    @Test func deletingACollectionWithRecordsAnswers204AndTheCLIRestoresIt() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            _ = try await server.call("POST", "/api/collections", .object([
                "name": "visits", "listRule": "", "viewRule": "", "fields": .array([.object(["name": "note", "type": "text"])]),
            ]), token: admin)
            for note in ["first", "second"] {
                _ = try await server.call("POST", "/api/collections/visits/records", .object(["note": .string(note)]), token: admin)
            }
            let deleted = try await server.call("DELETE", "/api/collections/visits", token: admin)
            #expect(deleted.status == 204, "\(deleted.json)")
            #expect(try await server.call("GET", "/api/collections/visits/records").status == 404)

            let listing = try ChildProcess.burg("collections", "trash", "--data-dir", server.dataDir)
            #expect(try await listing.wait() == 0 && listing.lines.contains { $0.hasPrefix("visits\t2 records") }, "\(listing.lines)")
            let restore = try ChildProcess.burg("collections", "restore", "visits", "--data-dir", server.dataDir)
            #expect(try await restore.wait() == 0, "\(restore.standardError)")
            let back = try await server.call("GET", "/api/collections/visits/records?sort=note")
            #expect(back.status == 200 && back["totalItems"] == .number(2), "\(back.json)")
        }
    }

    @Test func nestedExpandFollowsRelationsTheCallerMayView() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            func make(_ definition: JSONValue) async throws {
                let reply = try await server.call("POST", "/api/collections", definition, token: admin)
                #expect(reply.status == 200, "\(reply.json)")
            }
            func add(_ collection: String, _ values: JSONValue) async throws -> String {
                let reply = try await server.call("POST", "/api/collections/\(collection)/records", values, token: admin)
                guard case .string(let id)? = reply["id"] else { throw TestFailure("create failed: \(reply.json)") }
                return id
            }
            // Teams are superusers only; people and tasks are public.
            try await make(.object(["name": "teams", "fields": .array([.object(["name": "name", "type": "text"])])]))
            try await make(.object(["name": "people", "listRule": "", "viewRule": "", "fields": .array([
                .object(["name": "name", "type": "text"]), .object(["name": "team", "type": "relation", "collection": "teams"]),
            ])]))
            try await make(.object(["name": "tasks", "listRule": "", "viewRule": "", "fields": .array([
                .object(["name": "title", "type": "text"]),
                .object(["name": "assignee", "type": "relation", "collection": "people"]),
                .object(["name": "watchers", "type": "relation", "collection": "people", "maxSelect": 5]),
            ])]))
            let team = try await add("teams", .object(["name": "Night shift"]))
            let ann = try await add("people", .object(["name": "Ann", "team": .string(team)]))
            let bob = try await add("people", .object(["name": "Bob"]))
            let task = try await add("tasks", .object(["title": "Restock", "assignee": .string(ann), "watchers": .array([.string(bob), .string(ann)])]))

            func expand(_ token: String?) async throws -> [String: JSONValue] {
                let reply = try await server.call("GET", "/api/collections/tasks/records/\(task)?expand=assignee.team,watchers", token: token)
                #expect(reply.status == 200, "\(reply.json)")
                return reply["expand"]?.object ?? [:]
            }
            let asAdmin = try await expand(admin)
            #expect(asAdmin["assignee"]?.object?["name"] == "Ann")
            #expect(asAdmin["assignee"]?.object?["expand"]?.object?["team"]?.object?["name"] == "Night shift")
            if case .array(let watchers)? = asAdmin["watchers"] {
                #expect(watchers.compactMap { $0.object?["name"] } == ["Bob", "Ann"])
            } else {
                Issue.record("no watchers: \(asAdmin)")
            }
            // A guest sees the people but not the team (its view rule is superusers only).
            let asGuest = try await expand(nil)
            #expect(asGuest["assignee"]?.object?["name"] == "Ann")
            #expect(asGuest["assignee"]?.object?["expand"]?.object?["team"] == nil)
            // Lists expand too; a path through a non-relation or deeper than 6 levels is a 400.
            let list = try await server.call("GET", "/api/collections/tasks/records?expand=assignee.team", token: admin)
            if case .array(let items)? = list["items"] {
                #expect(items.first?.object?["expand"]?.object?["assignee"]?.object?["expand"]?.object?["team"] != nil)
            }
            #expect(try await server.call("GET", "/api/collections/tasks/records?expand=assignee.name").status == 400)
            #expect(try await server.call("GET", "/api/collections/tasks/records?expand=a.b.c.d.e.f.g").status == 400)
        }
    }
}

/// The request log: one JSON line per request on stdout and in `<data dir>/logs/burg.log` — the log
/// of a real `burg serve` process.
@Suite struct RequestLogTests {
    @Test func everyRequestIsLoggedAsAJSONLineWithItsIDStatusDurationAndCaller() async throws {
        let server = try await LiveServer()
        let admin = try await server.superuserToken()
        let listed = try await server.raw("GET", "/api/collections?secret=hunter2", token: admin)
        #expect(listed.status == 200 && listed.headers["x-request-id"]?.isEmpty == false)
        let missing = try await server.raw("GET", "/api/collections/nope/records")
        let requestID = try #require(missing.headers["x-request-id"])
        // An offered request id is kept (a proxy's), a hostile one replaced.
        let offered = try await LiveServer.send("GET", URL(string: "http://127.0.0.1:\(server.port)/api/health?x=1")!, body: nil, token: nil,
                                                headers: ["X-Request-Id": "proxy-42"])
        #expect(offered.2["x-request-id"] == "proxy-42")

        func entries(_ lines: [String]) -> [[String: Any]] {
            lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["message"] as? String == "request" }
        }
        var file: [[String: Any]] = []
        for _ in 0..<50 {
            let text = (try? String(contentsOfFile: server.dataDir + "/logs/burg.log", encoding: .utf8)) ?? ""
            file = entries(text.split(separator: "\n").map(String.init))
            if file.count >= 5 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let admins = file.filter { $0["path"] as? String == "/api/collections" }
        #expect(admins.first?["status"] as? String == "200" || admins.first?["status"] as? Int == 200, "\(admins)")
        #expect((admins.first?["actor"] as? String)?.hasPrefix("_superusers/") == true, "\(admins)")
        #expect(admins.first?["method"] as? String == "GET" && admins.first?["level"] as? String == "info")
        // Milliseconds with two decimals ("0.42", "12.05").
        let duration = admins.first?["durationMs"] as? String ?? ""
        #expect(duration.wholeMatch(of: /[0-9]+\.[0-9]{2}/) != nil, "\(duration)")
        let notFound = file.first { $0["requestId"] as? String == requestID }
        #expect(notFound?["status"] as? String == "404" && notFound?["actor"] as? String == "guest", "\(String(describing: notFound))")
        #expect(file.contains { $0["requestId"] as? String == "proxy-42" })
        // The query string (filter values, here a "secret") is never logged; stdout has the same lines.
        let text = try String(contentsOfFile: server.dataDir + "/logs/burg.log", encoding: .utf8)
        #expect(!text.contains("hunter2"))
        #expect(entries(server.process.lines).contains { $0["requestId"] as? String == requestID })
    }
}
