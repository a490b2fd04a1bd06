import BurgStore
import Foundation
internal import GRDB
import SystemPackage

/// A deleted collection, kept recoverable: its table (renamed, rows and indexes intact), its definition
/// and its files, until it is restored or purged.
public struct TrashedCollection: Sendable, Equatable, Codable {
    /// This deletion (one collection may be deleted, restored and deleted again).
    public var trashId: String
    public var collection: CollectionModel
    public var records: Int
    /// When it was deleted, PocketBase's date text.
    public var deletedAt: String
}

/// Deleting a collection moves it to the trash, as none of Burg's peers do: PocketBase drops a
/// collection with all its records at one `DELETE`. The table is renamed `_trash_<trashId>` in the same
/// transaction that removes the definition (its indexes and search index are dropped and rebuilt on
/// restore, so the names are free for a new collection with the same id); its files move to `storage/.trash/<trashId>` after the commit. A restore puts
/// all of it back; entries older than the retention (7 days unless told) are purged — table dropped,
/// files removed — at the next delete or trash listing. The trash lives in `data.db` and `storage/`,
/// so backups carry it.
extension CollectionRegistry {
    /// How long a deleted collection stays restorable by default.
    public static let defaultTrashRetention: Duration = .seconds(7 * 24 * 3600)

    static let trashMigration = "records.0004-collection-trash"

    static func createTrashTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE _collections_trash (
                trash_id TEXT PRIMARY KEY NOT NULL,
                collection_id TEXT NOT NULL,
                name TEXT NOT NULL COLLATE NOCASE,
                definition TEXT NOT NULL CHECK (json_valid(definition)),
                records INTEGER NOT NULL,
                deleted_at TEXT NOT NULL
            ) STRICT
            """)
    }

    static func trashTable(_ trashId: String) -> String { quoteIdentifier("_trash_\(trashId)") }

    /// Where a trashed collection's files wait.
    func trashedFiles(_ trashId: String) -> FilePath {
        FileStorage(dataDirectory: store.configuration.dataDirectory).root.appending(".trash").appending(trashId)
    }

    /// Moves `collection` to the trash inside the caller's write: the returned id names its entry.
    static func moveToTrash(_ db: Database, _ collection: CollectionModel) throws -> String {
        let trashId = RecordID.generate()
        let table = quoteIdentifier(collection.name)
        let records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
        try SearchIndex.drop(db, collection)
        try db.execute(sql: "ALTER TABLE \(table) RENAME TO \(trashTable(trashId))")
        // Index names are global and carry the collection's id: a new collection given the same id
        // must be able to build its own. Restore rebuilds them from the definition.
        try dropIndexes(db, table: "_trash_\(trashId)")
        try db.execute(sql: """
            INSERT INTO _collections_trash (trash_id, collection_id, name, definition, records, deleted_at) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [trashId, collection.id, collection.name, try encode(collection), records, FilterSQL.formatDate(Date())])
        try db.execute(sql: "DELETE FROM _collections WHERE id = ?", arguments: [collection.id])
        return trashId
    }

    /// Moves a trashed collection's files to the trash folder (after the commit that trashed it); a crash
    /// before leaves them under the collection's id, where ``restore(_:)`` also looks.
    func moveFilesToTrash(_ collection: CollectionModel, trashId: String) {
        let live = FileStorage(dataDirectory: store.configuration.dataDirectory).root.appending(collection.id)
        guard FileManager.default.fileExists(atPath: live.string) else { return }
        let target = trashedFiles(trashId)
        try? FileManager.default.createDirectory(atPath: target.removingLastComponent().string, withIntermediateDirectories: true)
        try? FileManager.default.moveItem(atPath: live.string, toPath: target.string)
    }

    /// The deleted collections still restorable, newest first.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func trash() throws -> [TrashedCollection] {
        try store.read { db in
            try Row.fetchAll(db.sqlite, sql: "SELECT * FROM _collections_trash ORDER BY deleted_at DESC, trash_id").map { row in
                TrashedCollection(trashId: row["trash_id"], collection: try Self.decode(row["definition"]),
                                  records: row["records"], deletedAt: row["deleted_at"])
            }
        }
    }

    /// Brings back the newest deleted collection named `name` (or the entry whose trash id it is), whole:
    /// table, records, indexes, search index and files. Refused while a collection of that name or id
    /// exists (rename or delete that one first).
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func restore(_ name: String) throws -> CollectionModel {
        let (restored, trashId) = try store.write { db -> (CollectionModel, String) in
            guard let row = try Row.fetchOne(db.sqlite, sql: """
                SELECT * FROM _collections_trash WHERE name = ? OR trash_id = ? ORDER BY deleted_at DESC LIMIT 1
                """, arguments: [name, name]) else {
                throw SchemaError(.collectionMissing, collection: name, message: "is not in the trash; `burg collections trash` lists what is")
            }
            let collection = try Self.decode(row["definition"])
            let trashId: String = row["trash_id"]
            if let holder = try String.fetchOne(db.sqlite, sql: "SELECT name FROM _collections WHERE name = ? OR id = ?",
                                                arguments: [collection.name, collection.id]) {
                throw SchemaError(.collectionExists, collection: collection.name,
                    message: "cannot be restored while collection \"\(holder)\" has its name or id; rename or delete that one first")
            }
            try db.sqlite.execute(sql: "ALTER TABLE \(Self.trashTable(trashId)) RENAME TO \(quoteIdentifier(collection.name))")
            try Self.dropIndexes(db.sqlite, table: collection.name)  // a trash entry from before they were dropped
            try Self.createIndexes(db.sqlite, collection, table: collection.name)
            try SearchIndex.create(db.sqlite, collection)
            try db.sqlite.execute(sql: "INSERT INTO _collections (id, name, definition, created, updated) VALUES (?, ?, ?, ?, ?)",
                                  arguments: [collection.id, collection.name, try Self.encode(collection), collection.created, collection.updated])
            try db.sqlite.execute(sql: "DELETE FROM _collections_trash WHERE trash_id = ?", arguments: [trashId])
            return (collection, trashId)
        }
        let trashed = trashedFiles(trashId)
        let live = FileStorage(dataDirectory: store.configuration.dataDirectory).root.appending(restored.id)
        if FileManager.default.fileExists(atPath: trashed.string), !FileManager.default.fileExists(atPath: live.string) {
            try FileManager.default.moveItem(atPath: trashed.string, toPath: live.string)
        }
        return restored
    }

    /// Drops the trashed collections deleted longer than `retention` ago — tables, then files — and
    /// returns them.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func purgeTrash(olderThan retention: Duration = CollectionRegistry.defaultTrashRetention) throws -> [TrashedCollection] {
        let cutoff = FilterSQL.formatDate(Date().addingTimeInterval(-retention.seconds))
        let purged = try store.write { db -> [TrashedCollection] in
            let rows = try Row.fetchAll(db.sqlite, sql: "SELECT * FROM _collections_trash WHERE deleted_at < ?", arguments: [cutoff])
            return try rows.map { row in
                let trashId: String = row["trash_id"]
                try db.sqlite.execute(sql: "DROP TABLE IF EXISTS \(Self.trashTable(trashId))")
                try db.sqlite.execute(sql: "DELETE FROM _collections_trash WHERE trash_id = ?", arguments: [trashId])
                return TrashedCollection(trashId: trashId, collection: try Self.decode(row["definition"]), records: row["records"], deletedAt: row["deleted_at"])
            }
        }
        for entry in purged { try? FileManager.default.removeItem(atPath: trashedFiles(entry.trashId).string) }
        return purged
    }
}
