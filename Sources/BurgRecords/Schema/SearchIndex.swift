internal import GRDB

/// The full-text index of a collection's searchable text fields: an FTS5 table with the trigram
/// tokenizer (substring search), kept in step with the collection's table by triggers in the same
/// transaction as every write, so it can never disagree with the records after a crash.
///
/// It refers to rows by `rowid`. SQLite's `VACUUM` and `VACUUM INTO` (maintenance and backups) keep the
/// rowids of these tables; `SearchIndexTests` checks that, and a schema change rebuilds the index.
enum SearchIndex {
    /// `_fts_<collection id>`, quoted.
    static func table(_ collection: CollectionModel) -> String { quoteIdentifier("_fts_\(collection.id)") }

    static func searchableFields(_ collection: CollectionModel) -> [Field] {
        collection.fields.filter { $0.searchable && $0.type == .text }
    }

    /// Creates the index (filled from the table's current rows) and its triggers; nothing when the
    /// collection has no searchable field.
    static func create(_ db: Database, _ collection: CollectionModel) throws {
        let fields = searchableFields(collection)
        guard !fields.isEmpty else { return }
        let fts = table(collection)
        let source = quoteIdentifier(collection.name)
        let columns = fields.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        let new = fields.map { "new.\(quoteIdentifier($0.name))" }.joined(separator: ", ")
        let old = fields.map { "old.\(quoteIdentifier($0.name))" }.joined(separator: ", ")
        // External content: the text lives once, in the collection's table; the index holds trigrams.
        try db.execute(sql: """
            CREATE VIRTUAL TABLE \(fts) USING fts5(\(columns), content=\(source), content_rowid='rowid', tokenize='trigram')
            """)
        try createInsertTrigger(db, collection)
        try db.execute(sql: """
            CREATE TRIGGER \(trigger(collection, "ad")) AFTER DELETE ON \(source) BEGIN
              INSERT INTO \(fts) (\(fts), rowid, \(columns)) VALUES ('delete', old.rowid, \(old));
            END;
            CREATE TRIGGER \(trigger(collection, "au")) AFTER UPDATE ON \(source) BEGIN
              INSERT INTO \(fts) (\(fts), rowid, \(columns)) VALUES ('delete', old.rowid, \(old));
              INSERT INTO \(fts) (rowid, \(columns)) VALUES (new.rowid, \(new));
            END;
            """)
        try db.execute(sql: "INSERT INTO \(fts) (\(fts)) VALUES ('rebuild')")
    }

    private static func createInsertTrigger(_ db: Database, _ collection: CollectionModel) throws {
        let fields = searchableFields(collection)
        let columns = fields.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        let new = fields.map { "new.\(quoteIdentifier($0.name))" }.joined(separator: ", ")
        try db.execute(sql: """
            CREATE TRIGGER \(trigger(collection, "ai")) AFTER INSERT ON \(quoteIdentifier(collection.name)) BEGIN
              INSERT INTO \(table(collection)) (rowid, \(columns)) VALUES (new.rowid, \(new));
            END
            """)
    }

    /// Runs `body` (inserting many rows) with the insert trigger replaced by one bulk insert into the
    /// index afterwards, all in the caller's transaction. FTS5 flushes its pending terms at every
    /// trigger's savepoint, so per-row triggers write a segment per row (~50 µs a row with trigrams);
    /// one statement for the batch indexes at ~5 µs a row. The DDL is part of the transaction: a crash
    /// undoes all of it together.
    /// `before` is the table's largest rowid before the batch: every row the batch inserts is above it.
    static func bulkInsert<T>(_ db: Database, _ collection: CollectionModel, after before: Int64, _ body: () throws -> T) throws -> T {
        let fields = searchableFields(collection)
        guard !fields.isEmpty else { return try body() }
        let source = quoteIdentifier(collection.name)
        try db.execute(sql: "DROP TRIGGER \(trigger(collection, "ai"))")
        let result = try body()
        let columns = fields.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        try db.execute(sql: "INSERT INTO \(table(collection)) (rowid, \(columns)) SELECT rowid, \(columns) FROM \(source) WHERE rowid > ?",
                       arguments: [before])
        try createInsertTrigger(db, collection)
        return result
    }

    /// Drops the index and its triggers (before the table changes shape).
    static func drop(_ db: Database, _ collection: CollectionModel) throws {
        for suffix in ["ai", "ad", "au"] { try db.execute(sql: "DROP TRIGGER IF EXISTS \(trigger(collection, suffix))") }
        try db.execute(sql: "DROP TABLE IF EXISTS \(table(collection))")
    }

    private static func trigger(_ collection: CollectionModel, _ suffix: String) -> String {
        quoteIdentifier("_fts_\(collection.id)_\(suffix)")
    }

    /// An FTS5 query matching `text` as a substring of `column`, or nil when the trigram index cannot
    /// serve it (fewer than three characters, or a NUL, which ends FTS5's query text early: SQLite would
    /// refuse the query as an unterminated string). LIKE alone then decides, with the same result.
    static func query(column: String, contains text: String) -> String? {
        guard text.unicodeScalars.count >= 3, !text.unicodeScalars.contains("\0") else { return nil }
        return "\(column) : \"\(text.replacingOccurrences(of: "\"", with: "\"\""))\""
    }
}
