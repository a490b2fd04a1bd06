import BurgStore
import Foundation
internal import GRDB

/// One committed change to a record, in commit order.
public struct RecordChange: Sendable, Equatable {
    public enum Action: String, Sendable { case create, update, delete }
    public var id: Int64
    public var collectionId: String
    public var recordId: String
    public var action: Action
    /// The record as this change committed it — for a delete, as it was before — in PocketBase's JSON
    /// shape (hidden fields left out), so that an event says what the change did even when later
    /// changes follow at once. Nil only for the creates of a bulk insert (`burg import`, seeding), whose
    /// rows are read when the event is sent.
    public var record: JSONValue?
}

/// Every record create, update and delete, written to `_changes` in the same transaction as the change
/// itself — by the API, the CLI, imports and workers alike — so a reader in any process (the server's
/// realtime broadcaster) sees each committed change exactly once, in order, and never one that was
/// rolled back. Old entries are pruned by age.
public enum ChangeFeed {
    static let migration = "records.0002-changes"
    /// Adds `record`: the record as each change committed it (before it, deletes alone kept a copy,
    /// in `deleted`, which stays for entries written then).
    static let recordMigration = "records.0003-change-records"

    static func createTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE _changes (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                collection_id TEXT NOT NULL,
                record_id TEXT NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
                deleted TEXT
            )
            """)
    }

    static func addRecordColumn(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE _changes ADD COLUMN record TEXT")
    }

    /// Notes `action` on `record` (as committed; as it was, for a delete) in the caller's transaction.
    static func append(_ db: Database, _ collection: CollectionModel, _ record: RecordModel, _ action: RecordChange.Action) throws {
        try db.cachedStatement(sql: "INSERT INTO _changes (at, collection_id, record_id, action, record) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [FilterSQL.formatDate(Date()), collection.id, record.id, action.rawValue, record.json.jsonText])
    }

    /// One `create` per row inserted after `rowid` (a bulk insert's batch).
    static func appendCreates(_ db: Database, _ collection: CollectionModel, afterRowid rowid: Int64) throws {
        try db.execute(sql: """
            INSERT INTO _changes (at, collection_id, record_id, action)
            SELECT ?, ?, "id", 'create' FROM \(quoteIdentifier(collection.name)) WHERE rowid > ? ORDER BY rowid
            """, arguments: [FilterSQL.formatDate(Date()), collection.id, rowid])
    }

    /// The id of the newest change (0 when there is none): where a new reader starts.
    public static func latest(_ store: Store) throws -> Int64 {
        try store.read { db in try Int64.fetchOne(db.sqlite, sql: "SELECT COALESCE(MAX(id), 0) FROM _changes") ?? 0 }
    }

    /// Changes after `id`, oldest first, at most `limit`.
    public static func changes(_ store: Store, after id: Int64, limit: Int = 1_000) throws -> [RecordChange] {
        try store.read { db in
            try Row.fetchAll(db.sqlite, sql: "SELECT * FROM _changes WHERE id > ? ORDER BY id LIMIT ?", arguments: [id, limit]).map { row in
                RecordChange(
                    id: row["id"], collectionId: row["collection_id"], recordId: row["record_id"],
                    action: RecordChange.Action(rawValue: row["action"]) ?? .update,
                    record: (row["record"] as String? ?? row["deleted"] as String?).flatMap { try? JSONValue.parse($0) })
            }
        }
    }

    /// Deletes entries older than `age`; returns how many.
    @discardableResult
    public static func prune(_ store: Store, olderThan age: Duration) throws -> Int {
        let cutoff = FilterSQL.formatDate(Date().addingTimeInterval(-age.seconds))
        return try store.write { db in
            try db.sqlite.execute(sql: "DELETE FROM _changes WHERE at < ?", arguments: [cutoff])
            return db.sqlite.changesCount
        }
    }
}
