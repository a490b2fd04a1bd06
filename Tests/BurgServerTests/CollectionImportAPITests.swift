import BurgCore
import BurgRecords
@testable import burg
import BurgServer
import BurgStore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// `PUT /api/collections/import`, `DELETE /api/collections/{c}/truncate` and
/// `GET /api/collections/meta/scaffolds` as PocketBase 0.40 answers them (its captured exchanges).
@Suite struct CollectionImportAPITests {
    static func names(_ server: some TestServer, _ token: String) async throws -> Set<String> {
        let listed = try await server.call("GET", "/api/collections", token: token)
        return Set((listed["items"]?.items ?? []).compactMap { $0.object?["name"]?.text })
    }

    @Test func importCreatesUpdatesAndWithDeleteMissingTrashesTheRest() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let drafts = try await server.call("POST", "/api/collections", .object([
                "name": "drafts", "fields": .array([.object(["name": "title", "type": "text"])]),
            ]), token: admin)
            _ = try await server.call("POST", "/api/collections/drafts/records", .object(["title": "kept"]), token: admin)
            _ = try await server.call("POST", "/api/collections", .object(["name": "doomed", "fields": .array([])]), token: admin)

            // A new collection with an index string, and an existing one by id with a field added.
            var changed = drafts.json.object ?? [:]
            changed["fields"] = .array((drafts["fields"]?.items ?? []) + [.object(["name": "added", "type": "bool"])])
            changed["listRule"] = ""
            let imported = try await server.call("PUT", "/api/collections/import", .object([
                "collections": .array([
                    .object(["name": "imported", "type": "base", "fields": .array([.object(["name": "label", "type": "text"])]),
                             "indexes": .array(["CREATE INDEX idx_imported_label ON imported (label)"])]),
                    .object(changed),
                ]),
                "deleteMissing": false,
            ]), token: admin)
            #expect(imported.status == 204, "\(imported.json)")
            let draftsAfter = try await server.call("GET", "/api/collections/drafts", token: admin)
            #expect(draftsAfter["listRule"] == "" && (draftsAfter["fields"]?.items ?? []).contains { $0.object?["name"] == "added" })
            #expect(try await Self.names(server, admin).isSuperset(of: ["imported", "drafts", "doomed"]))

            // With deleteMissing: what is not listed goes to the trash — never users or _superusers.
            // A full PocketBase export also lists its system collections: they are left alone.
            let superusers = try await server.call("GET", "/api/collections/_superusers", token: admin)
            let again = try await server.call("PUT", "/api/collections/import", .object([
                "collections": .array([draftsAfter.json, superusers.json, .object(["name": "_mfas", "type": "base", "system": true, "fields": .array([])])]),
                "deleteMissing": true,
            ]), token: admin)
            #expect(again.status == 204, "\(again.json)")
            let left = try await Self.names(server, admin)
            #expect(left == ["drafts", "users", "_superusers"], "\(left)")
            let records = try await server.call("GET", "/api/collections/drafts/records", token: admin)
            #expect(records["totalItems"] == 1, "records of an updated collection stay")
            let trash = try await server.dataDirTrash()
            #expect(Set(trash) == ["imported", "doomed"], "\(trash)")

            // Refusals change nothing, in PocketBase's shapes.
            let bad = try await server.call("PUT", "/api/collections/import", .object([
                "collections": .array([.object(["name": "fine", "fields": .array([])]), .object(["name": "bad name", "type": "base"])]),
            ]), token: admin)
            #expect(bad.status == 400 && bad["data"]?.object?["collections"]?.object?["code"] == "validation_collections_import_failure", "\(bad.json)")
            #expect(!(try await Self.names(server, admin)).contains("fine"), "the whole import was rolled back")
            let empty = try await server.call("PUT", "/api/collections/import", .object(["collections": .array([])]), token: admin)
            #expect(empty.status == 400 && empty["data"]?.object?["collections"]?.object?["code"] == "validation_required")
            let guest = try await server.call("PUT", "/api/collections/import", .object(["collections": .array([])]))
            #expect(guest.status == 401)
        }
    }

    @Test func truncateEmptiesACollectionAndScaffoldsDescribeNewOnes() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            _ = try await server.call("POST", "/api/collections", .object([
                "name": "scratch", "listRule": "", "createRule": "", "fields": .array([.object(["name": "n", "type": "number"])]),
            ]), token: admin)
            for n in 0..<3 { _ = try await server.call("POST", "/api/collections/scratch/records", .object(["n": .number(Double(n))])) }
            let truncated = try await server.call("DELETE", "/api/collections/scratch/truncate", token: admin)
            #expect(truncated.status == 204, "\(truncated.json)")
            let after = try await server.call("GET", "/api/collections/scratch/records")
            #expect(after["totalItems"] == 0)
            #expect(try await server.call("DELETE", "/api/collections/nope/truncate", token: admin).status == 404)
            #expect(try await server.call("DELETE", "/api/collections/_superusers/truncate", token: admin).status == 400)
            #expect(try await server.call("DELETE", "/api/collections/scratch/truncate").status == 401)
            // The collection itself stays, and takes records again.
            #expect(try await server.call("POST", "/api/collections/scratch/records", .object(["n": 9])).status == 200)

            let scaffolds = try await server.call("GET", "/api/collections/meta/scaffolds", token: admin)
            #expect(scaffolds.status == 200)
            #expect(scaffolds["base"]?.object?["type"] == "base" && scaffolds["auth"]?.object?["type"] == "auth")
            let authFields = (scaffolds["auth"]?.object?["fields"]?.items ?? []).compactMap { $0.object?["name"]?.text }
            #expect(Set(["id", "email", "password", "tokenKey"]).isSubset(of: Set(authFields)), "\(authFields)")
        }
    }
}

extension TestServer {
    /// The names of the collections in the data directory's trash (`burg collections trash` reads the same).
    func dataDirTrash() async throws -> [String] {
        let store = try Store(StoreConfiguration(dataDirectory: FilePath(dataDir)), migrations: BurgSchema.migrations)
        return try await CollectionRegistry(store: store).trash().map(\.collection.name)
    }
}
