import BurgRecords
import BurgStore
import Foundation
import Testing

/// PocketBase's index strings: read into Burg's index model, built by SQLite as written (collation,
/// order, partial condition), answered back as sent, rewritten into normal form when the collection is
/// renamed; everything outside the grammar refused with the part named, and nothing changed.
@Suite struct IndexStatementTests {
    struct Accepted: Sendable, CustomStringConvertible {
        var sql: String
        var name: String
        var unique: Bool
        var columns: [String]
        var condition: String?
        var description: String { sql }
    }

    @Test(arguments: [
        Accepted(sql: "CREATE INDEX idx ON notes (title)", name: "idx", unique: false, columns: ["title"]),
        Accepted(sql: "create unique index if not exists `idx_x` on `notes` (`title` collate nocase desc, \"count\" asc);",
                 name: "idx_x", unique: true, columns: ["title COLLATE NOCASE DESC", "count"]),
        Accepted(sql: "CREATE INDEX [odd name] ON notes ( title , created DESC )", name: "odd name", unique: false,
                 columns: ["title", "created DESC"]),
        Accepted(sql: "CREATE UNIQUE INDEX u ON notes (title) WHERE count > 0 AND title != 'a;b'", name: "u", unique: true,
                 columns: ["title"], condition: "count > 0 AND title != 'a;b'"),
    ])
    func acceptedStrings(_ item: Accepted) throws {
        let index = try IndexStatement.parse(item.sql)
        #expect(index.name == item.name && index.unique == item.unique && index.table?.lowercased() == "notes")
        #expect(index.columns.map { $0.name + ($0.collation.map { " COLLATE \($0)" } ?? "") + ($0.descending ? " DESC" : "") } == item.columns)
        #expect(index.condition == item.condition)
        #expect(index.statement(table: "notes") == item.sql, "answered as sent")
    }

    @Test(arguments: [
        ("DROP TABLE users", "CREATE [UNIQUE] INDEX"),
        ("CREATE TABLE x (a)", "only CREATE [UNIQUE] INDEX"),
        ("CREATE INDEX idx ON notes (title); DROP TABLE users", "after the column list"),
        ("CREATE INDEX idx ON notes (title) WHERE 1; DROP TABLE users", "one statement only"),
        ("CREATE INDEX idx ON notes (lower(title))", "expression"),
        ("CREATE INDEX idx ON notes ((title))", "expressions are not supported"),
        ("CREATE INDEX idx ON notes (title COLLATE klingon)", "collation KLINGON"),
        ("CREATE INDEX main.idx ON notes (title)", "cannot name a schema"),
        ("CREATE INDEX idx ON main.notes (title)", "cannot name a schema"),
        ("CREATE INDEX idx ON notes", "column list"),
        ("CREATE INDEX idx ON notes (title", "should end"),
        ("CREATE INDEX 'idx ON notes (title)", "not closed"),
        ("CREATE INDEX idx ON notes (title) -- comment", "comments"),
        ("CREATE INDEX idx ON notes (title) WHERE (SELECT 1)", "subquery"),
        ("CREATE INDEX idx ON notes (title) WHERE", "needs a condition"),
        ("CREATE INDEX idx ON notes (title) WHERE (a", "unbalanced"),
    ])
    func refusedStrings(_ sql: String, _ named: String) {
        #expect {
            _ = try IndexStatement.parse(sql)
        } throws: { error in
            (error as? IndexStatement.ParseError)?.message.contains(named) ?? false
        }
    }

    @Test func stringsBuildTheIndexSQLiteWasToldAndRenamesRewriteThem() throws {
        let fixture = try RecordsFixture()
        let definition = try JSONDecoder().decode(CollectionModel.self, from: Data("""
            {"name": "notes", "fields": [{"name": "title", "type": "text"}, {"name": "count", "type": "number"}],
             "indexes": ["CREATE UNIQUE INDEX idx_title ON notes (title COLLATE NOCASE) WHERE count > 0",
                         {"name": "by_count", "fields": ["count"]}]}
            """.utf8))
        let created = try fixture.collections.create(definition)
        let encoded = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(created)) as? [String: Any]
        #expect(encoded?["indexes"] as? [String] == [
            "CREATE UNIQUE INDEX idx_title ON notes (title COLLATE NOCASE) WHERE count > 0",
            "CREATE INDEX `by_count` ON `notes` (`count`)",
        ])
        // The partial unique index: "A" and "a" clash (NOCASE) only where count > 0.
        try fixture.records.create("notes", ["title": "A", "count": 1])
        try fixture.records.create("notes", ["title": "a", "count": 0])
        #expect(throws: (any Error).self) { try fixture.records.create("notes", ["title": "a", "count": 2]) }
        // Renamed: the string that named the old table is answered in normal form for the new one.
        var renamed = created
        renamed.name = "memos"
        let after = try fixture.collections.update("notes", to: renamed)
        let encodedAfter = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(after)) as? [String: Any]
        #expect(encodedAfter?["indexes"] as? [String] == [
            "CREATE UNIQUE INDEX `idx_title` ON `memos` (`title` COLLATE NOCASE) WHERE count > 0",
            "CREATE INDEX `by_count` ON `memos` (`count`)",
        ])
        #expect(try fixture.collections.get("memos").indexes.count == 2, "stored and read back")
    }

    @Test(arguments: [
        ("CREATE INDEX bad ON notes (nosuchfield)", "not a field of notes"),
        ("CREATE INDEX bad ON notes (title) WHERE nosuchcolumn = 1", "cannot be built"),
        ("CREATE INDEX bad ON other (title)", "belongs to collection notes"),
        ("DROP TABLE users", "Invalid CREATE INDEX"),
    ])
    func aRefusedIndexChangesNothing(_ sql: String, _ named: String) throws {
        let fixture = try RecordsFixture()
        let definition = try JSONDecoder().decode(CollectionModel.self, from: Data("""
            {"name": "notes", "fields": [{"name": "title", "type": "text"}], "indexes": [\(String(decoding: try JSONEncoder().encode(sql), as: UTF8.self))]}
            """.utf8))
        #expect {
            try fixture.collections.create(definition)
        } throws: { error in
            guard let error = error as? SchemaError else { return false }
            return error.code == .invalidIndex && error.field == "0" && error.message.contains(named)
        }
        #expect(try fixture.collections.list().map(\.name).contains("notes") == false)
    }
}
