import BurgCore
import BurgRecords
import BurgStore
import Foundation
import GRDB
import Testing

/// Searchable text fields: `~` is served by an FTS5 trigram index, returns exactly what a LIKE scan
/// returns, and the index follows inserts, updates, deletes, schema changes, VACUUM and VACUUM INTO.
@Suite struct SearchIndexTests {
    static func notes(searchable: Bool = true) -> CollectionModel {
        var title = Field(name: "title", type: .text)
        title.searchable = searchable
        var body = Field(name: "body", type: .text)
        body.searchable = searchable
        return CollectionModel(name: "notes", fields: [title, body, Field(name: "pages", type: .number)])
    }

    func ids(_ records: RecordStore, _ filter: String) throws -> [String] {
        var query = ListQuery()
        query.filter = filter
        query.perPage = 500
        return try records.list("notes", query).items.map(\.id).sorted()
    }

    func plan(_ store: Store, _ records: RecordStore, _ filter: String) throws -> String {
        // The SQL the listing runs, explained: it must search the FTS table, not scan the collection.
        let collection = try CollectionRegistry(store: store).get("notes")
        let fields = CollectionFields(collection, all: try CollectionRegistry(store: store).list())
        let condition = try FilterSQL.compile(filter, fields: fields)
        return try store.read { db in
            try Row.fetchAll(db.sqlite, sql: "EXPLAIN QUERY PLAN SELECT * FROM \"notes\" WHERE \(condition.sql)", arguments: StatementArguments(condition.arguments))
                .map { $0["detail"] as String }.joined(separator: "; ")
        }
    }

    @Test func containsOnASearchableFieldUsesTheIndexAndMatchesALikeScan() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(Self.notes())
        var plain = Self.notes(searchable: false)
        plain.name = "plain"
        plain.id = "pbc_plain00000000"
        try fixture.collections.create(plain)
        let texts = ["Knee surgery follow-up", "knee X-RAY", "Hip replacement", "50% off_sale", "Ünïcode ÄBC", "quote \"x\" inside", ""]
        for (index, text) in texts.enumerated() {
            let values: [String: JSONValue] = ["title": .string(text), "body": .string(String(text.reversed())), "pages": .number(Double(index))]
            try fixture.records.create("notes", values, id: String(format: "n%014d", index))
            try fixture.records.create("plain", values, id: String(format: "n%014d", index))
        }
        for filter in ["title ~ 'knee'", "title ~ 'KNEE x'", "title ~ 'ee'", "title ~ 'off_s'", "title ~ '0% o'", "title ~ 'äbc'",
                       "title ~ 'quote \"x'", "title ~ 'nothing here'", "body ~ 'eenk' && pages < 1", "title ~ 'hip' || body ~ 'yar'",
                       "title !~ 'knee'"] {
            var search = ListQuery()
            search.filter = filter
            search.perPage = 500
            let indexed = try fixture.records.list("notes", search).items.map(\.id)
            let scanned = try fixture.records.list("plain", search).items.map(\.id)
            #expect(indexed == scanned, "\(filter)")
        }
        #expect(try ids(fixture.records, "title ~ 'knee'") == ["n00000000000000", "n00000000000001"])
        #expect(try plan(fixture.store, fixture.records, "title ~ 'knee'").contains("VIRTUAL TABLE INDEX"))
        // Under three characters the trigram index cannot answer; LIKE does.
        #expect(!(try plan(fixture.store, fixture.records, "title ~ 'ee'").contains("VIRTUAL TABLE")))
    }

    /// Found by the filter fuzz harness: a NUL in the text (`%00` in a URL) ended FTS5's query string early,
    /// and SQLite refused the listing ("unterminated string"), a 500. LIKE alone now decides.
    @Test func containsWithANulCharacterOnASearchableFieldListsLikeAScanInsteadOfFailing() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(Self.notes())
        var plain = Self.notes(searchable: false)
        plain.name = "plain"
        plain.id = "pbc_plain00000000"
        try fixture.collections.create(plain)
        for (index, text) in ["knee\u{0}bone", "knee bone", "w\u{0}\u{0}\u{0}xyz"].enumerated() {
            try fixture.records.create("notes", ["title": .string(text)], id: String(format: "n%014d", index))
            try fixture.records.create("plain", ["title": .string(text)], id: String(format: "n%014d", index))
        }
        for filter in ["title ~ 'ee\u{0}b'", "title ~ 'w\u{0}\u{0}\u{0}xyz'", "title !~ '\u{0}\u{0}\u{0}' || title ~ 'bone\u{0}'"] {
            var query = ListQuery()
            query.filter = filter
            let searched = try fixture.records.list("notes", query).items.map(\.id)
            let scanned = try fixture.records.list("plain", query).items.map(\.id)
            #expect(searched == scanned, "\(filter.debugDescription)")
        }
    }

    @Test func theIndexFollowsWritesSchemaChangesAndVacuum() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(Self.notes())
        var ids: [String] = []
        for index in 0..<300 {
            ids.append(try fixture.records.create("notes", ["title": .string("entry \(index) \(index % 7 == 0 ? "needle" : "hay")")]).id)
        }
        let needles = try self.ids(fixture.records, "title ~ 'needle'")
        #expect(needles.count == 43)
        try fixture.records.update("notes", id: needles[0], ["title": "now plain"])
        try fixture.records.update("notes", id: ids[1], ["title": "a needle appears"])
        try fixture.records.delete("notes", id: needles[1])
        var expected = Set(needles).subtracting([needles[0], needles[1]]).union([ids[1]]).sorted()
        #expect(try self.ids(fixture.records, "title ~ 'needle'") == expected)
        // Deleting every third record leaves rowid gaps; VACUUM must keep rowids or the index would point
        // at the wrong rows.
        for id in ids.enumerated().filter({ $0.offset % 3 == 2 }).map(\.element) where id != needles[1] {
            try fixture.records.delete("notes", id: id)
            expected.removeAll { $0 == id }
        }
        try fixture.store.vacuum()
        #expect(try self.ids(fixture.records, "title ~ 'needle'") == expected)
        let copy = fixture.dir.path("copy.db")
        try fixture.store.vacuum(into: copy)
        let copied = try DatabaseQueue(path: copy.string)
        let copiedIDs = try copied.read { db in
            try String.fetchAll(db, sql: """
                SELECT id FROM notes WHERE rowid IN (SELECT rowid FROM "_fts_\(try fixture.collections.get("notes").id)" WHERE title MATCH '"needle"') ORDER BY id
                """)
        }
        #expect(copiedIDs == expected)
        // A schema change (rename a searchable field, add another) rebuilds the index for the new shape.
        var changed = try fixture.collections.get("notes")
        changed.fields[0].name = "heading"
        var summary = Field(name: "summary", type: .text)
        summary.searchable = true
        changed.fields.append(summary)
        try fixture.collections.update("notes", to: changed)
        #expect(try self.ids(fixture.records, "heading ~ 'needle'") == expected)
        // Retyping rebuilds the table (new rowids); the index is rebuilt with it.
        var retyped = try fixture.collections.get("notes")
        retyped.fields[2].type = .text
        try fixture.collections.update("notes", to: retyped)
        #expect(try self.ids(fixture.records, "heading ~ 'needle'") == expected)
        try fixture.collections.delete("notes", purge: true)
        let leftovers = try fixture.store.read { db in
            try String.fetchAll(db.sqlite, sql: "SELECT name FROM sqlite_master WHERE name LIKE '_fts_%'")
        }
        #expect(leftovers.isEmpty)
    }

    @Test func onlyTextFieldsCanBeSearchable() throws {
        var pages = Field(name: "pages", type: .number)
        pages.searchable = true
        #expect(throws: SchemaError.self) { try CollectionModel(name: "bad", fields: [pages]).validate() }
        #expect(throws: SchemaError.self) { try CollectionModel(name: "bad", fields: [Field(name: "rowid", type: .text)]).validate() }
    }
}
