import BurgStore
import BurgTestSupport
import Foundation
import Testing

/// The seam between Burg's modules and the storage engine: what crosses it is Burg's own
/// (``StoreTransaction``, ``SQLValue``, ``SQLDialect``), and each construct the dialect spells runs on a
/// real SQLite store with the meaning its documentation gives.
@Suite struct StorageSeamTests {
    private func store() throws -> (TemporaryDirectory, Store) {
        let dir = try TemporaryDirectory()
        var migrations = StoreMigrations.store
        migrations.append("test.0001-items") { db in
            try db.execute(sql: "CREATE TABLE items (name TEXT PRIMARY KEY, hits INTEGER NOT NULL, tags TEXT)")
        }
        return (dir, try Store(dir.storeConfiguration, migrations: migrations))
    }

    @Test func aStatementRunsThroughTheTransactionWithEngineNeutralValues() throws {
        let (_, store) = try store()
        try store.write { db in
            #expect(db.dialect == .sqlite)
            #expect(db.isInsideTransaction)
            try db.execute(sql: "INSERT INTO items (name, hits, tags) VALUES (?, ?, ?), (?, ?, ?)",
                arguments: ["a", 1, nil, .text("b"), .integer(2), "[\"x\"]"])
        }
        let names = try store.read { db in try db.column(sql: "SELECT name FROM items WHERE hits >= ? ORDER BY name", arguments: [1]) }
        #expect(names == [.text("a"), .text("b")])
        #expect(try store.read { db in try db.tableExists("items") && !db.tableExists("nothing") })
    }

    @Test func theDialectsUpsertAndReturningBehaveAsDocumented() throws {
        let (_, store) = try store()
        let dialect = SQLDialect.sqlite
        let upsert = dialect.upsert(onConflict: ["name"], set: ["hits = hits + \(dialect.excluded("hits"))"])
        for hits in [1, 2, 3] {
            try store.write { db in
                try db.execute(sql: "INSERT INTO items (name, hits) VALUES ('a', ?) \(upsert)", arguments: [.integer(Int64(hits))])
            }
        }
        let returned = try store.write { db in
            try db.column(sql: "UPDATE items SET hits = hits * 10 WHERE name = 'a' \(dialect.returning("hits"))")
        }
        #expect(returned == [.integer(60)])
    }

    @Test func likeLiteralsMatchOnlyThemselvesAndNullSafeEqualityHoldsForNull() throws {
        let (_, store) = try store()
        try store.write { db in
            for name in ["50%_off", "50x off", "500 off", "a\\b", "ab"] {
                try db.execute(sql: "INSERT INTO items (name, hits) VALUES (?, 0)", arguments: [.text(name)])
            }
        }
        let dialect = SQLDialect.sqlite
        func matching(_ text: String) throws -> [SQLValue] {
            try store.read { db in
                try db.column(sql: "SELECT name FROM items WHERE name LIKE ? \(dialect.likeEscapeClause) ORDER BY name",
                    arguments: [.text("%" + dialect.likeLiteral(text) + "%")])
            }
        }
        #expect(try matching("0%_") == [.text("50%_off")])
        #expect(try matching("a\\b") == [.text("a\\b")])
        #expect(try matching("_") == [.text("50%_off")])
        let same = try store.read { db in
            try db.column(sql: "SELECT \(dialect.isSame("tags", "?")) FROM items WHERE name = 'ab'", arguments: [nil])
        }
        #expect(same == [.integer(1)])
        let notSame = try store.read { db in
            try db.column(sql: "SELECT \(dialect.isSame("tags", "?", negated: true)) FROM items WHERE name = 'ab'", arguments: [nil])
        }
        #expect(notSame == [.integer(0)])
    }

    @Test func jsonArraysExpandAsRowsAndAsAnInList() throws {
        let (_, store) = try store()
        try store.write { db in
            try db.execute(sql: "INSERT INTO items (name, hits, tags) VALUES ('a', 1, '[\"red\",\"blue\"]'), ('b', 2, '[]'), ('c', 3, '[\"blue\"]')")
        }
        let dialect = SQLDialect.sqlite
        let blue = try store.read { db in
            try db.column(sql: """
                SELECT name FROM items WHERE EXISTS (SELECT 1 FROM \(dialect.jsonArrayElements("tags", alias: "je")) WHERE "je"."value" = 'blue')
                ORDER BY name
                """)
        }
        #expect(blue == [.text("a"), .text("c")])
        let listed = try store.read { db in
            try db.column(sql: "SELECT name FROM items WHERE name IN (\(dialect.jsonArrayValues(dialect.placeholder(0)))) ORDER BY name",
                arguments: [.text("[\"c\",\"a\",\"zzz\"]")])
        }
        #expect(listed == [.text("a"), .text("c")])
    }

    /// The rule the seam rests on, checked on the source tree so that it cannot erode: GRDB is imported
    /// by no file of the server or the executable, re-exported by none, and imported `internal` (or
    /// `package`, by the transaction type alone) everywhere else, so no public API can name its types.
    @Test func noModuleAboveTheStorageFilesSeesGRDB() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        #expect(files.count > 100, "found \(files.count) source files under \(sources.path)")
        var importers: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let module = file.path.dropFirst(sources.path.count + 1).split(separator: "/").first.map(String.init) ?? ""
            // Import lines of GRDB or its SQLite module (GRDBSQLite: SQLite's C API, for bulk binding).
            let lines = text.split(separator: "\n").map(String.init).filter { line in
                let words = line.split(separator: " ")
                let starts = ["import", "@_exported", "public", "package", "internal", "fileprivate", "private"]
                return words.count >= 2 && starts.contains(String(words[0])) && words.dropLast().last == "import"
                    && words.last!.hasPrefix("GRDB")
            }
            guard !lines.isEmpty else { continue }
            importers.append(module)
            #expect(!["BurgServer", "burg"].contains(module), "\(file.lastPathComponent) in \(module) imports GRDB")
            for line in lines {
                #expect(!line.contains("@_exported"), "\(file.lastPathComponent) re-exports GRDB")
                let level = file.lastPathComponent == "StoreTransaction.swift" ? "package" : "internal"
                #expect(line.hasPrefix("\(level) import "), "\(file.lastPathComponent): \(line)")
            }
        }
        #expect(importers.contains("BurgStore"))
    }
}
