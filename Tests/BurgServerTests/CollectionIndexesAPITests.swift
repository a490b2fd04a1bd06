import BurgCore
import BurgRecords
import BurgTestSupport
import Foundation
import Testing

/// Index strings through the collections API as PocketBase's SDKs and exported schemas send them:
/// answered as strings, refused with `data.indexes.<position>.code = validation_invalid_index_expression`.
@Suite struct CollectionIndexesAPITests {
    @Test func indexStringsAreAcceptedAnsweredAndRefusedAsPocketBaseDoes() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let created = try await server.call("POST", "/api/collections", .object([
                "name": "posts", "fields": .array([.object(["name": "title", "type": "text"]), .object(["name": "views", "type": "number"])]),
                "indexes": .array(["CREATE UNIQUE INDEX idx_posts_title ON posts (title)", "CREATE INDEX idx_views ON posts (views DESC)"]),
            ]), token: admin)
            #expect(created.status == 200, "\(created.json)")
            #expect(created["indexes"] == .array(["CREATE UNIQUE INDEX idx_posts_title ON posts (title)", "CREATE INDEX idx_views ON posts (views DESC)"]))
            // The unique index holds.
            let first = try await server.call("POST", "/api/collections/posts/records", .object(["title": "same"]), token: admin)
            let second = try await server.call("POST", "/api/collections/posts/records", .object(["title": "same"]), token: admin)
            #expect(first.status == 200 && second.status == 400, "\(second.json)")

            // Refusals, each at its position; nothing is created.
            for (position, sql) in [(0, "CREATE INDEX oops ON badidx (nosuchcolumn)"), (1, "DROP TABLE users")] {
                let indexes: [JSONValue] = position == 0 ? [.string(sql)] : ["CREATE INDEX fine ON badidx (a)", .string(sql)]
                let refused = try await server.call("POST", "/api/collections", .object([
                    "name": "badidx", "fields": .array([.object(["name": "a", "type": "text"])]), "indexes": .array(indexes),
                ]), token: admin)
                #expect(refused.status == 400, "\(refused.json)")
                let code = refused["data"]?.object?["indexes"]?.object?[String(position)]?.object?["code"]
                #expect(code == "validation_invalid_index_expression", "\(refused.json)")
            }
            let missing = try await server.call("GET", "/api/collections/badidx", token: admin)
            #expect(missing.status == 404)
            // A PATCH that renames the collection rewrites its index strings into normal form.
            let renamed = try await server.call("PATCH", "/api/collections/posts", .object(["name": "articles"]), token: admin)
            #expect(renamed["indexes"] == .array(["CREATE UNIQUE INDEX `idx_posts_title` ON `articles` (`title`)",
                                                  "CREATE INDEX `idx_views` ON `articles` (`views` DESC)"]), "\(renamed.json)")
        }
    }
}
