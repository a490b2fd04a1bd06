import BurgCore
import BurgRecords
import BurgServer
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// Realtime over server-sent events, PocketBase's protocol: a change made by another process (a CLI
/// import) reaches a subscriber who may view it, and not one whose view rule hides it.
@Suite struct RealtimeTests {
    /// `curl -sN` on the event stream: a real HTTP client reading SSE lines as they come.
    func stream(port: Int) async throws -> (ChildProcess, String) {
        // `localhost`: an in-process server listens there, which may be 127.0.0.1 or ::1; curl tries both.
        let curl = try ChildProcess(FilePath("/usr/bin/curl"), ["-sN", "http://localhost:\(port)/api/realtime"])
        try await blocking { try curl.waitForLine("event:PB_CONNECT") }
        let data = try await blocking { try curl.waitForLine { $0.hasPrefix("data:") } }
        let connect = try JSONValue.parse(String(data.dropFirst(5)))
        guard case .object(let object) = connect, case .string(let id)? = object["clientId"] else { throw TestFailure("no client id: \(data)") }
        return (curl, id)
    }

    @Test func theEventStreamTellsAProxyNotToBufferIt() async throws {
        let server = try await LiveServer()
        let curl = try ChildProcess(FilePath("/usr/bin/curl"), ["-sNi", "http://localhost:\(server.port)/api/realtime"])
        defer { curl.signal(SIGTERM) }
        // The head comes before the first frame: a missing header shows up as PB_CONNECT first.
        let line = try await blocking { try curl.waitForLine { $0.lowercased().hasPrefix("x-accel-buffering:") || $0.hasPrefix("event:") } }
        #expect(line.lowercased().trimmingCharacters(in: .whitespacesAndNewlines) == "x-accel-buffering: no", "\(line)")
    }

    @Test func aChangeByAnotherProcessReachesSubscribersWhoMayViewIt() async throws {
        let server = try await LiveServer()
        let admin = try await server.superuserToken()
        let created = try await server.call("POST", "/api/collections", .object([
            "name": "alerts", "listRule": "level != 'secret'", "viewRule": "level != 'secret'",
            "fields": .array([.object(["name": "level", "type": "text"]), .object(["name": "text", "type": "text"])]),
        ]), token: admin)
        #expect(created.status == 200, "\(created.json)")

        let (guest, guestID) = try await stream(port: server.port)
        let (boss, bossID) = try await stream(port: server.port)
        defer {
            guest.signal(SIGTERM)
            boss.signal(SIGTERM)
        }
        #expect(try await server.call("POST", "/api/realtime", .object(["clientId": .string(guestID), "subscriptions": ["alerts"]])).status == 204)
        #expect(try await server.call("POST", "/api/realtime", .object(["clientId": .string(bossID), "subscriptions": ["alerts"]]), token: admin).status == 204)
        #expect(try await server.call("POST", "/api/realtime", .object(["clientId": "nobody", "subscriptions": ["alerts"]])).status == 404)

        // A second process writes: `burg import` of two records, one the guest may not see.
        let file = server.dir.path("alerts.ndjson")
        try AtomicFile.write(Array("{\"level\": \"info\", \"text\": \"disk 80%\"}\n{\"level\": \"secret\", \"text\": \"boss only\"}\n".utf8), to: file)
        let importer = try ChildProcess.burg("import", "alerts", file.string, "--data-dir", server.dataDir)
        #expect(try await importer.wait() == 0, "\(importer.standardError)")

        _ = try await boss.waitForLine(timeout: .seconds(10)) { $0.contains("boss only") }
        _ = try await guest.waitForLine(timeout: .seconds(10)) { $0.contains("disk 80%") }
        #expect(boss.lines.contains("event:alerts") && boss.lines.contains { $0.contains("\"action\":\"create\"") && $0.contains("disk 80%") })
        // The boss's secret event came after the guest's visible one was sent; the guest never gets it.
        try await Task.sleep(for: .milliseconds(300))
        #expect(!guest.lines.contains { $0.contains("boss only") })

        // An update through the API reaches both.
        let list = try await server.call("GET", "/api/collections/alerts/records?filter=level%3D%27info%27", token: admin)
        guard case .array(let items)? = list["items"], case .object(let first)? = items.first, case .string(let id)? = first["id"] else { return }
        _ = try await server.call("PATCH", "/api/collections/alerts/records/\(id)", .object(["text": "disk 95%"]), token: admin)
        _ = try await guest.waitForLine(timeout: .seconds(10)) { $0.contains("disk 95%") }
        #expect(guest.lines.contains { $0.contains("\"action\":\"update\"") })

        // Deletes are judged by the view rule on the record as it was: the guest hears of the one it
        // could see, not of the secret one; the superuser hears of both.
        let secret = try await server.call("GET", "/api/collections/alerts/records?filter=level%3D%27secret%27", token: admin)
        guard case .array(let hidden)? = secret["items"], case .object(let row)? = hidden.first, case .string(let secretID)? = row["id"] else { return }
        #expect(try await server.call("DELETE", "/api/collections/alerts/records/\(secretID)", token: admin).status == 204)
        #expect(try await server.call("DELETE", "/api/collections/alerts/records/\(id)", token: admin).status == 204)
        _ = try await boss.waitForLine(timeout: .seconds(10)) { $0.contains("\"action\":\"delete\"") && $0.contains(secretID) }
        _ = try await boss.waitForLine(timeout: .seconds(10)) { $0.contains("\"action\":\"delete\"") && $0.contains(id) }
        _ = try await guest.waitForLine(timeout: .seconds(10)) { $0.contains("\"action\":\"delete\"") && $0.contains(id) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(!guest.lines.contains { $0.contains(secretID) })
    }

    /// The topic forms the PocketBase SDKs send: `subscribe('*')` is `posts/*`, `subscribe(id)` is
    /// `posts/<id>`, each may carry `?options=`; the collection by name or by id. `*` topics follow the
    /// list rule and `/<id>` topics the view rule; each matching subscription gets its own event, named as
    /// subscribed.
    @Test func pocketBaseTopicFormsFireUnderTheirOwnRulesNamedAsSubscribed() async throws {
        try await InProcessServer.run(.live) { server in
            let admin = try await server.superuserToken()
            // Guests may view any post by id but list only the published ones.
            let created = try await server.call("POST", "/api/collections", .object([
                "name": "posts", "listRule": "published = true", "viewRule": "",
                "fields": .array([.object(["name": "title", "type": "text"]), .object(["name": "published", "type": "bool"])]),
            ]), token: admin)
            let collectionId = try #require(created["id"]?.text)
            let draft = try await server.call("POST", "/api/collections/posts/records", .object(["title": "draft one", "published": false]), token: admin)
            let draftId = try #require(draft["id"]?.text)

            let (guest, guestID) = try await stream(port: server.port)
            defer { guest.signal(SIGTERM) }
            let options = "posts/*?options=" + #"{"query":{"expand":""}}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let topics = ["posts/*", "\(collectionId)/*", "posts/\(draftId)", "\(collectionId)/\(draftId)", options, "nosuch/*"]
            let subscribed = try await server.call("POST", "/api/realtime", .object(["clientId": .string(guestID), "subscriptions": .array(topics.map { .string($0) })]))
            #expect(subscribed.status == 204, "\(subscribed.json)")

            // An update of the draft: the view rule lets the guest see it, the list rule does not.
            #expect(try await server.call("PATCH", "/api/collections/posts/records/\(draftId)", .object(["title": "draft two"]), token: admin).status == 200)
            _ = try await blocking { try guest.waitForLine(timeout: .seconds(10)) { $0.contains("draft two") } }
            try await Task.sleep(for: .milliseconds(400))
            let draftEvents = guest.lines.filter { $0.hasPrefix("event:") && $0 != "event:PB_CONNECT" }
            #expect(Set(draftEvents) == ["event:posts/\(draftId)", "event:\(collectionId)/\(draftId)"], "\(draftEvents)")

            // A published post: every `*` topic fires (by name, by id, with options), each once.
            #expect(try await server.call("POST", "/api/collections/posts/records", .object(["title": "hello", "published": true]), token: admin).status == 200)
            _ = try await blocking { try guest.waitForLine(timeout: .seconds(10)) { $0.contains("hello") } }
            try await Task.sleep(for: .milliseconds(400))
            let events = guest.lines.filter { $0.hasPrefix("event:") && $0 != "event:PB_CONNECT" }.dropFirst(draftEvents.count)
            #expect(events.sorted() == ["event:posts/*", "event:\(collectionId)/*", "event:\(options)"].sorted(), "\(events)")
            #expect(guest.lines.filter { $0.contains("\"hello\"") }.count == 3)
        }
    }

    /// A subscription's `options.query` shapes its events as the same parameters shape a list: the
    /// SDKs' `subscribe('*', cb, {expand: 'author', fields: 'id,title,expand'})`. Another topic of the
    /// same client, without options, gets the plain record; options that are not JSON are ignored.
    @Test func subscriptionOptionsExpandAndPickFieldsOfEachEvent() async throws {
        try await InProcessServer.run(.live) { server in
            let admin = try await server.superuserToken()
            _ = try await server.call("POST", "/api/collections", .object([
                "name": "writers", "listRule": "", "viewRule": "", "fields": .array([.object(["name": "name", "type": "text"])]),
            ]), token: admin)
            _ = try await server.call("POST", "/api/collections", .object([
                "name": "articles", "listRule": "", "viewRule": "",
                "fields": .array([.object(["name": "title", "type": "text"]), .object(["name": "body", "type": "text"]),
                                  .object(["name": "writer", "type": "relation", "collection": "writers"])]),
            ]), token: admin)
            let ada = try await server.call("POST", "/api/collections/writers/records", .object(["name": "Ada Lovelace"]), token: admin)
            let adaID = try #require(ada["id"]?.text)

            let (guest, guestID) = try await stream(port: server.port)
            defer { guest.signal(SIGTERM) }
            let options = #"{"query":{"expand":"writer","fields":"id,title,expand"},"headers":{"x-app":"1"}}"#
            let shaped = "articles/*?options=" + options.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let garbled = "articles/*?options=not%20json"
            let subscribed = try await server.call("POST", "/api/realtime", .object([
                "clientId": .string(guestID), "subscriptions": .array([.string(shaped), "articles/*", .string(garbled)]),
            ]))
            #expect(subscribed.status == 204, "\(subscribed.json)")
            _ = try await server.call("POST", "/api/collections/articles/records",
                                      .object(["title": "Notes on the Engine", "body": "long text", "writer": .string(adaID)]), token: admin)
            _ = try await blocking { try guest.waitForLine(timeout: .seconds(10)) { $0.contains("Ada Lovelace") } }
            try await Task.sleep(for: .milliseconds(400))

            // Frames come as `event:` then `data:` lines; pair them up.
            var frames: [String: JSONValue] = [:]
            var event: String?
            for line in guest.lines {
                if line.hasPrefix("event:") { event = String(line.dropFirst(6)) }
                if line.hasPrefix("data:"), let name = event, name != "PB_CONNECT" { frames[name] = try JSONValue.parse(String(line.dropFirst(5))) }
            }
            func record(_ topic: String) -> [String: JSONValue]? {
                guard case .object(let frame)? = frames[topic], case .object(let record)? = frame["record"] else { return nil }
                return record
            }
            guard let withOptions = record(shaped), let plain = record("articles/*"), let ignored = record(garbled) else {
                Issue.record("missing frames: \(guest.lines)")
                return
            }
            #expect(Set(withOptions.keys) == ["id", "title", "expand"], "\(withOptions)")
            #expect("\(JSONValue.object(withOptions))".contains("Ada Lovelace"))
            #expect(plain["expand"] == nil && plain["body"] == .string("long text"), "\(plain)")
            #expect(ignored == plain)
        }
    }

    /// Each event carries the record as its own change committed it, from the change feed's copy, not
    /// as it is when the event is sent: changes made back to back (well inside one poll of the feed)
    /// arrive as they happened — an update followed at once by a delete delivers both, in order — and
    /// the list rule judges each state of the record, not the last one.
    @Test func changesBackToBackArriveEachAsItCommitted() async throws {
        try await InProcessServer.run(.live) { server in
            let admin = try await server.superuserToken()
            let created = try await server.call("POST", "/api/collections", .object([
                "name": "notes", "listRule": "title != 'secret'", "viewRule": "",
                "fields": .array([.object(["name": "title", "type": "text"])]),
            ]), token: admin)
            #expect(created.status == 200, "\(created.json)")
            let note = try await server.call("POST", "/api/collections/notes/records", .object(["title": "v1"]), token: admin)
            let id = try #require(note["id"]?.text)

            let (guest, guestID) = try await stream(port: server.port)
            defer { guest.signal(SIGTERM) }
            #expect(try await server.call("POST", "/api/realtime", .object(["clientId": .string(guestID), "subscriptions": ["notes/*"]])).status == 204)

            // Three changes within microseconds, then a marker record to know the feed was read past them.
            let records = RecordStore(store: server.store)
            try await records.update("notes", id: id, ["title": "secret"])
            try await records.update("notes", id: id, ["title": "v2"])
            try await records.delete("notes", id: id)
            _ = try await records.create("notes", ["title": "marker"])
            _ = try await blocking { try guest.waitForLine(timeout: .seconds(10)) { $0.contains("marker") } }

            // (The create before the subscription may be delivered too: the feed is read from where the
            // broker started.)
            let events = guest.lines.filter { $0.hasPrefix("data:") && $0.contains(id) && !$0.contains("\"action\":\"create\"") }
            #expect(events.count == 2, "\(events)")
            #expect(events.first.map { $0.contains("\"action\":\"update\"") && $0.contains("\"v2\"") } == true, "\(events)")
            #expect(events.last.map { $0.contains("\"action\":\"delete\"") && $0.contains("\"v2\"") } == true, "\(events)")
            #expect(!guest.lines.contains { $0.contains("secret") }, "the guest's list rule hid the record while its title was secret")
        }
    }

    /// A change the server itself commits is sent at once, not at the next poll of the change feed
    /// (here ten minutes away, far beyond the two minutes the event is waited for): the commit wakes
    /// the broker.
    @Test func aChangeThisServerCommitsIsSentWithoutWaitingForThePoll() async throws {
        var configuration = ServerConfiguration()
        configuration.realtimePollInterval = .seconds(600)
        try await InProcessServer.run(.live, configuration: configuration) { server in
            let admin = try await server.superuserToken()
            let created = try await server.call("POST", "/api/collections", .object([
                "name": "notes", "listRule": "", "viewRule": "", "createRule": "",
                "fields": .array([.object(["name": "title", "type": "text"])]),
            ]), token: admin)
            #expect(created.status == 200, "\(created.json)")
            let (guest, guestID) = try await stream(port: server.port)
            defer { guest.signal(SIGTERM) }
            #expect(try await server.call("POST", "/api/realtime", .object(["clientId": .string(guestID), "subscriptions": ["notes/*"]])).status == 204)
            #expect(try await server.call("POST", "/api/collections/notes/records", .object(["title": "at once"])).status == 200)
            _ = try await blocking { try guest.waitForLine(timeout: .seconds(120)) { $0.contains("at once") } }
        }
    }

    /// A subscriber whose connection drops and comes back with `Last-Event-ID: <clientId>` (what
    /// EventSource sends when it reconnects by itself) keeps its client id and subscriptions and gets
    /// the events it missed; an unknown or stale id gets a new client.
    @Test func aDroppedSubscriberResumesWithItsClientIdAndGetsWhatItMissed() async throws {
        try await InProcessServer.run(.live) { server in
            let admin = try await server.superuserToken()
            let created = try await server.call("POST", "/api/collections", .object([
                "name": "notes", "listRule": "", "viewRule": "", "createRule": "", "fields": .array([.object(["name": "title", "type": "text"])]),
            ]), token: admin)
            #expect(created.status == 200, "\(created.json)")
            let (first, clientID) = try await stream(port: server.port)
            #expect(try await server.call("POST", "/api/realtime", .object(["clientId": .string(clientID), "subscriptions": ["notes/*"]])).status == 204)
            _ = try await server.call("POST", "/api/collections/notes/records", .object(["title": "before"]))
            _ = try await blocking { try first.waitForLine(timeout: .seconds(10)) { $0.contains("\"before\"") } }
            first.signal(SIGKILL)
            _ = try? await first.wait(timeout: .seconds(5))
            // The server learns of the drop when a write fails: the first write after the peer is gone
            // may still be accepted by the kernel (and is lost with the connection), the next one fails
            // and is kept.
            for probe in ["probe 1", "probe 2"] {
                _ = try await server.call("POST", "/api/collections/notes/records", .object(["title": .string(probe)]))
                try await Task.sleep(for: .milliseconds(500))
            }
            _ = try await server.call("POST", "/api/collections/notes/records", .object(["title": "while away"]))
            try await Task.sleep(for: .milliseconds(500))

            let again = try ChildProcess(FilePath("/usr/bin/curl"), ["-sN", "-H", "Last-Event-ID: \(clientID)", "http://localhost:\(server.port)/api/realtime"])
            defer { again.signal(SIGTERM) }
            let connect = try await blocking { try again.waitForLine(timeout: .seconds(10)) { $0.hasPrefix("data:") && $0.contains("clientId") } }
            #expect(connect.contains(clientID), "the same client id: \(connect)")
            _ = try await blocking { try again.waitForLine(timeout: .seconds(10)) { $0.contains("\"while away\"") } }
            // Still subscribed, without a new POST /api/realtime.
            _ = try await server.call("POST", "/api/collections/notes/records", .object(["title": "after"]))
            _ = try await blocking { try again.waitForLine(timeout: .seconds(10)) { $0.contains("\"after\"") } }

            // An id nobody holds gets a new client.
            let stranger = try ChildProcess(FilePath("/usr/bin/curl"), ["-sN", "-H", "Last-Event-ID: nosuchclient", "http://localhost:\(server.port)/api/realtime"])
            defer { stranger.signal(SIGTERM) }
            let fresh = try await blocking { try stranger.waitForLine(timeout: .seconds(10)) { $0.hasPrefix("data:") && $0.contains("clientId") } }
            #expect(!fresh.contains("nosuchclient") && !fresh.contains(clientID), "\(fresh)")
        }
    }

    /// A port already taken (here by another `burg serve`) is refused in words with exit 75, at once,
    /// and the running server is untouched.
    @Test func aBusyPortIsRefusedInWordsAndTheSecondServerExits() async throws {
        let server = try await LiveServer()
        let other = try TemporaryDirectory()
        let second = try ChildProcess.burg("serve", "--http", "127.0.0.1:\(server.port)", "--data-dir", other.path("data").string)
        #expect(try await second.wait(timeout: .seconds(20)) == ExitStatus.tempFail)
        #expect(second.standardError.contains("cannot listen on 127.0.0.1:\(server.port)"), "\(second.standardError)")
        #expect(try await server.call("GET", "/api/health").status == 200)
    }

    @Test func sigtermClosesStreamsFinishesAndExitsZero() async throws {
        let server = try await LiveServer()
        let (curl, _) = try await stream(port: server.port)
        let started = ContinuousClock.now
        server.process.signal(SIGTERM)
        #expect(try await server.process.wait(timeout: .seconds(15)) == 0, "\(server.process.standardError)")
        #expect(ContinuousClock.now - started < .seconds(10))
        // The client's stream ended with the server.
        #expect(try await curl.wait(timeout: .seconds(5)) == 0)
    }
}
