import BurgCore
import BurgRecords
import BurgTestSupport
import Foundation
import Testing

/// Collection definitions in PocketBase's own format — the bodies PocketBase 0.40 was sent when its
/// answers were captured (`types_min`: every type with no options; `posts`: every type with options,
/// autodate `created`/`updated`, index strings) — are accepted, answered with exactly PocketBase's keys
/// per field type, and behave as declared.
@Suite struct PocketBaseFieldsTests {
    /// PocketBase's keys per field type (its `types_min` answer).
    static let pocketBaseKeys: [String: Set<String>] = {
        let common: Set<String> = ["help", "hidden", "id", "name", "presentable", "required", "system", "type"]
        return [
            "text": common.union(["autogeneratePattern", "max", "min", "pattern", "primaryKey"]),
            "number": common.union(["max", "min", "onlyInt"]),
            "bool": common,
            "email": common.union(["exceptDomains", "onlyDomains"]),
            "url": common.union(["exceptDomains", "onlyDomains"]),
            "date": common.union(["max", "min"]),
            "autodate": ["hidden", "id", "name", "onCreate", "onUpdate", "presentable", "system", "type"],
            "select": common.union(["maxSelect", "values"]),
            "file": common.union(["maxSelect", "maxSize", "mimeTypes", "protected", "thumbs"]),
            "relation": common.union(["cascadeDelete", "collectionId", "maxSelect", "minSelect"]),
            "json": common.union(["maxSize"]),
            "editor": common.union(["convertURLs", "maxSize"]),
            "geoPoint": common,
            "password": common.union(["cost", "max", "min", "pattern"]),
        ]
    }()

    static let typesMin = #"""
        {"name": "types_min", "type": "base", "fields": [{"name": "f_text", "type": "text"}, {"name": "f_number", "type": "number"}, {"name": "f_bool", "type": "bool"}, {"name": "f_email", "type": "email"}, {"name": "f_url", "type": "url"}, {"name": "f_date", "type": "date"}, {"name": "f_autodate", "type": "autodate", "onCreate": true}, {"name": "f_select", "type": "select", "values": ["a", "b", "c"]}, {"name": "f_file", "type": "file"}, {"name": "f_relation", "type": "relation", "collectionId": "pbc_1219621782"}, {"name": "f_json", "type": "json"}, {"name": "f_editor", "type": "editor"}, {"name": "f_geo", "type": "geoPoint"}]}
        """#

    static let posts = #"""
        {"name": "posts", "type": "base", "fields": [{"name": "title", "type": "text", "required": true, "min": 3, "max": 100, "presentable": true}, {"name": "slug", "type": "text", "pattern": "^[a-z0-9-]+$", "autogeneratePattern": "[a-z]{8}", "max": 64}, {"name": "views", "type": "number", "min": 0, "max": 1000000, "onlyInt": true}, {"name": "rating", "type": "number", "min": 0, "max": 5}, {"name": "published", "type": "bool"}, {"name": "contact", "type": "email", "exceptDomains": ["blocked.example"]}, {"name": "website", "type": "url", "onlyDomains": ["example.com", "example.org"]}, {"name": "publishedAt", "type": "date", "min": "2000-01-01 00:00:00.000Z", "max": "2099-12-31 23:59:59.000Z"}, {"name": "status", "type": "select", "values": ["draft", "published", "archived"], "maxSelect": 1}, {"name": "categories", "type": "select", "values": ["news", "tech", "life", "misc"], "maxSelect": 3}, {"name": "cover", "type": "file", "maxSelect": 1, "maxSize": 200000, "mimeTypes": ["image/png", "image/jpeg"], "thumbs": ["100x100", "50x0", "0x20", "40x40t"]}, {"name": "attachments", "type": "file", "maxSelect": 5, "maxSize": 100000, "protected": true}, {"name": "author", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1, "cascadeDelete": false}, {"name": "tags", "type": "relation", "collectionId": "pbc_1219621782", "maxSelect": 5, "minSelect": 0, "cascadeDelete": false}, {"name": "meta", "type": "json", "maxSize": 2000}, {"name": "body", "type": "editor", "convertURLs": false, "maxSize": 10000}, {"name": "location", "type": "geoPoint"}, {"name": "reviewedAt", "type": "autodate", "onUpdate": true}, {"name": "created", "type": "autodate", "onCreate": true, "onUpdate": false}, {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true}], "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "", "indexes": ["CREATE INDEX idx_posts_status ON posts (status)", "CREATE UNIQUE INDEX idx_posts_slug ON posts (slug)", "CREATE INDEX `idx_posts_status_views` ON `posts` (`status`, `views` DESC)", "CREATE INDEX idx_posts_pub ON posts (publishedAt) WHERE published = TRUE"]}
        """#

    static func create(_ server: some TestServer, _ body: String, token: String) async throws -> Reply {
        try await server.call("POST", "/api/collections", token: token, rawBody: Data(body.utf8))
    }

    /// Every field's keys against PocketBase's for its type, less Burg's extras: a relation's target by
    /// name (`collection`), and `unique`/`searchable` where set.
    static func keyMismatches(_ reply: Reply) -> [String] {
        (reply["fields"]?.items ?? []).compactMap { field -> String? in
            guard let object = field.object, let type = object["type"]?.text, let expected = pocketBaseKeys[type] else { return "\(field)" }
            // Burg's own options appear only when set (an auth collection's email is unique).
            let extras = ["unique", "searchable"].filter { object[$0] == .bool(true) } + (type == "relation" ? ["collection"] : [])
            let keys = Set(object.keys).subtracting(extras)
            return keys == expected ? nil : "\(object["name"]?.text ?? "?") (\(type)): extra \(keys.subtracting(expected).sorted()), missing \(expected.subtracting(keys).sorted())"
        }
    }

    @Test func pocketBaseDefinitionsAreAcceptedAndAnsweredWithItsKeys() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let tags = try await server.call("POST", "/api/collections", .object([
                "id": "pbc_1219621782", "name": "tags", "fields": .array([.object(["name": "name", "type": "text"])]),
            ]), token: admin)
            #expect(tags.status == 200, "\(tags.json)")
            for body in [Self.typesMin, Self.posts] {
                let created = try await Self.create(server, body, token: admin)
                #expect(created.status == 200, "\(created.json)")
                #expect(Self.keyMismatches(created).isEmpty, "\(Self.keyMismatches(created))")
                // `id` first and `created`/`updated` last, as PocketBase lists them.
                let names = (created["fields"]?.items ?? []).compactMap { $0.object?["name"]?.text }
                #expect(names.first == "id" && names.suffix(2) == ["created", "updated"], "\(names)")
                #expect(names.filter { $0 == "created" }.count == 1, "the created autodate sent is the system column, listed once")
            }
            // The users collection too: its password is PocketBase's `password` type.
            let users = try await server.call("GET", "/api/collections/users", token: admin)
            #expect(Self.keyMismatches(users).isEmpty, "\(Self.keyMismatches(users))")
            let password = users["fields"]?.items?.first { $0.object?["name"]?.text == "password" }
            #expect(password?.object?["type"] == "password")

            // A definition fetched and saved back whole (id, created, updated, password included) changes nothing.
            for name in ["posts", "users"] {
                let fetched = try await server.call("GET", "/api/collections/\(name)", token: admin)
                let saved = try await server.call("PATCH", "/api/collections/\(name)", .object(["fields": fetched["fields"] ?? .null]), token: admin)
                #expect(saved.status == 200, "\(saved.json)")
                #expect(saved["fields"] == fetched["fields"], "\(name)")
            }
        }
    }

    @Test func theNewTypesAndOptionsBehaveAsDeclared() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            _ = try await server.call("POST", "/api/collections", .object([
                "id": "pbc_1219621782", "name": "tags", "fields": .array([.object(["name": "name", "type": "text"])]),
            ]), token: admin)
            #expect(try await Self.create(server, Self.posts, token: admin).status == 200)
            // Created with the least: slug generated from its pattern, geoPoint at the origin, autodates set.
            let post = try await server.call("POST", "/api/collections/posts/records", .object([
                "title": "hello", "reviewedAt": "1999-01-01 00:00:00.000Z",
            ]))
            #expect(post.status == 200, "\(post.json)")
            let slug = post["slug"]?.text ?? ""
            #expect(slug.count == 8 && slug.allSatisfy { $0 >= "a" && $0 <= "z" }, "\(slug)")
            #expect(post["location"] == .object(["lon": 0, "lat": 0]))
            #expect(post["reviewedAt"] == "", "onUpdate only: empty at creation, whatever the client sent")
            // An update sets reviewedAt to now; the client's value is ignored.
            let id = post["id"]?.text ?? ""
            let updated = try await server.call("PATCH", "/api/collections/posts/records/\(id)", .object([
                "location": .object(["lon": 13.4, "lat": 52.52]), "reviewedAt": "1999-01-01 00:00:00.000Z",
            ]))
            #expect(updated.status == 200, "\(updated.json)")
            #expect(updated["location"] == .object(["lon": 13.4, "lat": 52.52]))
            let reviewed = updated["reviewedAt"]?.text ?? ""
            #expect(reviewed.hasPrefix("20") && reviewed >= (post["created"]?.text ?? "~"), "\(reviewed)")
            // Filters and sorts see the autodate as a date.
            let found = try await server.call("GET", "/api/collections/posts/records?sort=-reviewedAt&filter=" +
                ("reviewedAt > '2000-01-01'".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            #expect(found["totalItems"] == 1, "\(found.json)")

            // Each option refuses what it should, at its field, and nothing is stored.
            let refusals: [(JSONValue, String, String)] = [
                (.object(["title": "geo", "location": .object(["lon": 200, "lat": 0])]), "location", "validation_invalid_geo_point"),
                (.object(["title": "geo", "location": "north"]), "location", "validation_invalid_geo_point"),
                (.object(["title": "web", "website": "https://elsewhere.net/x"]), "website", "validation_url_domain_not_allowed"),
                (.object(["title": "mail", "contact": "a@mail.blocked.example"]), "contact", "validation_email_domain_not_allowed"),
                (.object(["title": "old", "publishedAt": "1999-12-31"]), "publishedAt", "validation_min_date_constraint"),
                (.object(["title": "big", "body": .string(String(repeating: "x", count: 10_001))]), "body", "validation_max_text_constraint"),
                (.object(["title": "big", "meta": .string(String(repeating: "x", count: 2_001))]), "meta", "validation_json_size_limit"),
            ]
            for (body, field, code) in refusals {
                let reply = try await server.call("POST", "/api/collections/posts/records", body)
                #expect(reply.status == 400 && reply["data"]?.object?[field]?.object?["code"]?.text == code, "\(field): \(reply.json)")
            }
            let all = try await server.call("GET", "/api/collections/posts/records")
            #expect(all["totalItems"] == 1)

            // Definitions Burg cannot honour are refused in words, nothing created.
            let unsupported: [String] = [
                #"{"name": "c1", "fields": [{"name": "a", "type": "autodate"}]}"#,
                #"{"name": "c2", "fields": [{"name": "r", "type": "relation", "collectionId": "pbc_1219621782", "cascadeDelete": true}]}"#,
                #"{"name": "c3", "fields": [{"name": "pin", "type": "password"}]}"#,
                #"{"name": "c4", "fields": [{"name": "code", "type": "text", "autogeneratePattern": "(a|b)+"}]}"#,
                #"{"name": "c5", "fields": [{"name": "d", "type": "date", "min": "yesterday"}]}"#,
                #"{"name": "c6", "fields": [{"name": "e", "type": "email", "onlyDomains": ["a.org"], "exceptDomains": ["b.org"]}]}"#,
            ]
            for body in unsupported {
                let reply = try await Self.create(server, body, token: admin)
                #expect(reply.status == 400, "\(body): \(reply.json)")
            }
            let listed = try await server.call("GET", "/api/collections", token: admin)
            let names = Set((listed["items"]?.items ?? []).compactMap { $0.object?["name"]?.text })
            #expect(names.isDisjoint(with: ["c1", "c2", "c3", "c4", "c5", "c6"]), "\(names)")
        }
    }

    @Test(arguments: [
        ("[a-z0-9]{15}", 15...15), ("INV-[0-9]{6}", 10...10), ("[A-Z]{2,4}\\-x", 4...6), ("ab", 2...2),
    ])
    func autogeneratePatternsMakeMatchingValues(_ pattern: String, _ lengths: ClosedRange<Int>) throws {
        let generator = try AutogeneratePattern(pattern)
        let regex = try NSRegularExpression(pattern: "^" + pattern + "$")
        for _ in 0..<50 {
            let value = generator.generate()
            #expect(lengths.contains(value.count) && regex.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil, "\(value)")
        }
    }
}
