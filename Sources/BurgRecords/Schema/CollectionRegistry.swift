import BurgStore
import Foundation
internal import GRDB
import Synchronization

/// The collections of a database: their definitions (in `_collections`) and their tables, changed
/// together in one transaction so that the schema and the tables never disagree, also across a crash.
public struct CollectionRegistry: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// The records layer's migrations; the executable appends them after the store's.
    public static let migrations: StoreMigrations = {
        var migrations = StoreMigrations()
        migrations.append("records.0001-collections") { db in
            try db.execute(sql: """
                CREATE TABLE _collections (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    definition TEXT NOT NULL CHECK (json_valid(definition)),
                    created TEXT NOT NULL,
                    updated TEXT NOT NULL
                ) STRICT
                """)
        }
        migrations.append(ChangeFeed.migration) { db in try ChangeFeed.createTable(db.sqlite) }
        migrations.append(ChangeFeed.recordMigration) { db in try ChangeFeed.addRecordColumn(db.sqlite) }
        migrations.append(Self.trashMigration) { db in try Self.createTrashTable(db.sqlite) }
        return migrations
    }()

    // MARK: Reading

    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func list() throws -> [CollectionModel] {
        try store.read { db in try Self.all(db.sqlite) }
    }

    /// The collection called `name` (case-insensitive), or `.collectionMissing`.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func get(_ name: String) throws -> CollectionModel {
        try store.read { db in try Self.load(db.sqlite, name) }
    }

    static func all(_ db: Database) throws -> [CollectionModel] {
        try String.fetchAll(db, sql: "SELECT definition FROM _collections ORDER BY name").map(decode)
    }

    static func load(_ db: Database, _ name: String) throws -> CollectionModel {
        // By name (case-insensitive) or by id, as PocketBase's routes accept either; a name wins. Two
        // indexed lookups (one `OR` made SQLite build a temporary table), with cached statements: every
        // record operation runs this, and preparing it cost more than running it.
        let byName = try db.cachedStatement(sql: "SELECT definition FROM _collections WHERE name = ?")
        let byId = try db.cachedStatement(sql: "SELECT definition FROM _collections WHERE id = ?")
        guard let definition = try String.fetchOne(byName, arguments: [name]) ?? String.fetchOne(byId, arguments: [name]) else {
            throw SchemaError(.collectionMissing, collection: name, message: "no such collection; `burg collections list` shows them")
        }
        return try decode(definition)
    }

    /// Decoded definitions by their exact text: every request reads the definitions it needs (so a
    /// change by any process is seen at once), but decodes each distinct text only once. Correct by
    /// construction — the key is the whole definition — and bounded (cleared past 512 entries).
    private static let decoded = Mutex<[String: CollectionModel]>([:])

    static func decode(_ text: String) throws -> CollectionModel {
        if let hit = decoded.withLock({ $0[text] }) { return hit }
        let collection = try JSONDecoder().decode(CollectionModel.self, from: Data(text.utf8))
        decoded.withLock { cache in
            if cache.count >= 512 { cache.removeAll() }
            cache[text] = collection
        }
        return collection
    }

    static func encode(_ collection: CollectionModel) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(collection), as: UTF8.self)
    }

    // MARK: Changing

    /// Creates the collection and its table, indexes included. Relation targets must exist.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func create(_ collection: CollectionModel) throws -> CollectionModel {
        try createAll([collection])[0]
    }

    /// Creates several collections in one transaction: all of them, or (on any error) none. Relations
    /// may refer to collections created earlier in the list.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func createAll(_ collections: [CollectionModel]) throws -> [CollectionModel] {
        for collection in collections { try collection.validate() }
        return try store.write { db in try collections.map { try Self.inserted(db.sqlite, $0) } }
    }

    /// The create, inside the caller's write (``validate()`` already passed).
    static func inserted(_ db: Database, _ collection: CollectionModel) throws -> CollectionModel {
        if try String.fetchOne(db, sql: "SELECT name FROM _collections WHERE name = ?", arguments: [collection.name]) != nil {
            throw SchemaError(.collectionExists, collection: collection.name, message: "already exists")
        }
        if let holder = try String.fetchOne(db, sql: "SELECT name FROM _collections WHERE id = ?", arguments: [collection.id]) {
            throw SchemaError(.idTaken, collection: collection.name,
                message: "the id \"\(collection.id)\" belongs to collection \"\(holder)\"; leave the id out to get a new one")
        }
        try checkIndexTables(collection, names: [collection.name])
        var created = try resolveRelations(db, collection)
        created.created = FilterSQL.formatDate(Date())
        created.updated = created.created
        try createTable(db, created, as: created.name)
        try checkRules(db, created)
        try SearchIndex.create(db, created)
        try db.execute(
            sql: "INSERT INTO _collections (id, name, definition, created, updated) VALUES (?, ?, ?, ?, ?)",
            arguments: [created.id, created.name, try encode(created), created.created, created.updated])
        return created
    }

    /// Deletes the collection: into the trash (see ``trash()``, ``restore(_:)``), records, indexes and
    /// files kept for ``defaultTrashRetention``; with `purge`, dropped at once. A system collection, or
    /// one that another collection's relation field refers to, is refused. Returns the trash entry's id
    /// (nil when purged). Entries past their retention are purged first.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func delete(_ name: String, purge: Bool = false) throws -> String? {
        try purgeTrash()
        let (deleted, trashId) = try store.write { db in try Self.removed(db.sqlite, name, purge: purge) }
        afterRemoval(deleted, trashId: trashId)
        return trashId
    }

    /// After the commit of a removal: the files to the trash, or (purged) gone — a crash in between
    /// leaves them under the collection's id, where `restore` looks and `burg files check` reports.
    func afterRemoval(_ deleted: CollectionModel, trashId: String?) {
        if let trashId {
            moveFilesToTrash(deleted, trashId: trashId)
        } else {
            try? FileManager.default.removeItem(atPath: FileStorage(dataDirectory: store.configuration.dataDirectory).root.appending(deleted.id).string)
        }
    }

    /// The removal, inside the caller's write: refused for a system collection or one a relation of
    /// another collection names; into the trash unless `purge`.
    static func removed(_ db: Database, _ name: String, purge: Bool) throws -> (CollectionModel, String?) {
        let collection = try load(db, name)
        guard !collection.system else {
            throw SchemaError(.protected, collection: collection.name, message: "is a system collection Burg needs; it cannot be deleted")
        }
        for other in try all(db) where other.name != collection.name {
            if let field = other.fields.first(where: { $0.type == .relation && $0.collection?.lowercased() == collection.name.lowercased() }) {
                throw SchemaError(.referenced, collection: collection.name,
                    message: "field \"\(field.name)\" of collection \"\(other.name)\" refers to it; remove that field first")
            }
        }
        guard purge else { return (collection, try moveToTrash(db, collection)) }
        try SearchIndex.drop(db, collection)
        try db.execute(sql: "DROP TABLE \(quoteIdentifier(collection.name))")
        try db.execute(sql: "DELETE FROM _collections WHERE id = ?", arguments: [collection.id])
        return (collection, nil)
    }

    /// Changes a collection's definition and migrates its table in the same transaction: fields added,
    /// renamed (same field id, new name), dropped, retyped; indexes changed. Changes that would lose
    /// data — dropping a field that holds values, retyping a field of a non-empty table — are refused
    /// unless `force`.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func update(_ name: String, to new: CollectionModel, force: Bool = false) throws -> CollectionModel {
        try new.validate()
        return try store.write { db in try Self.changed(db.sqlite, name, to: new, force: force) }
    }

    /// The change, inside the caller's write (``validate()`` already passed).
    static func changed(_ db: Database, _ name: String, to new: CollectionModel, force: Bool) throws -> CollectionModel {
        let old = try load(db, name)
        var updated = new
        updated.id = old.id
        updated.system = old.system
        updated.created = old.created
        // A base table has no password or tokenKey column, so an auth collection cannot come from one
        // (nor the reverse without losing its credentials): PocketBase refuses this too.
        guard old.type == new.type else {
            throw SchemaError(.invalidOptions, collection: old.name,
                message: "is a \(old.type.rawValue) collection and cannot become \(new.type.rawValue); create a new collection and import the records")
        }
        // A system field (an auth collection's credentials) is never dropped, even with `force`: every
        // sign-in reads it. BurgAuth merges them back into a definition that leaves them out.
        for field in old.fields where field.system && !new.fields.contains(where: { $0.id == field.id }) {
            throw SchemaError(.protected, collection: old.name, field: field.name,
                              message: "field \"\(field.name)\" is a system field and cannot be removed")
        }
        updated.updated = FilterSQL.formatDate(Date())
        if old.name.lowercased() != new.name.lowercased(),
           try String.fetchOne(db, sql: "SELECT name FROM _collections WHERE name = ?", arguments: [new.name]) != nil {
            throw SchemaError(.collectionExists, collection: new.name, message: "already exists")
        }
        // An index string may still name the table by its former name (PocketBase's dashboard sends
        // it so in a rename); it is answered in normal form for the new name.
        try checkIndexTables(updated, names: [old.name, updated.name])
        updated = try resolveRelations(db, updated)
        try SchemaMigration(old: old, new: updated, force: force).apply(db)
        if old.name != updated.name { try renameRelations(db, from: old.name, to: updated) }
        try checkRules(db, updated)
        try db.execute(
            sql: "UPDATE _collections SET name = ?, definition = ?, updated = ? WHERE id = ?",
            arguments: [updated.name, try encode(updated), updated.updated, updated.id])
        return updated
    }

    /// Each index string names the collection's table (by one of `names`), not another collection's.
    static func checkIndexTables(_ collection: CollectionModel, names: [String]) throws {
        for (position, index) in collection.indexes.enumerated() {
            guard let table = index.table, !names.contains(where: { $0.lowercased() == table.lowercased() }) else { continue }
            throw SchemaError(.invalidIndex, collection: collection.name, field: String(position),
                              message: "index \"\(index.name)\" is ON \(table), but it belongs to collection \(collection.name); write ON \(collection.name)")
        }
    }

    // MARK: DDL

    static func createTable(_ db: Database, _ collection: CollectionModel, as tableName: String) throws {
        let columns = [
            "\"id\" TEXT PRIMARY KEY NOT NULL CHECK (length(\"id\") BETWEEN 1 AND 64)",
            "\"created\" TEXT NOT NULL DEFAULT ''",
            "\"updated\" TEXT NOT NULL DEFAULT ''",
        ] + collection.fields.map(\.columnDefinition)
        try db.execute(sql: "CREATE TABLE \(quoteIdentifier(tableName)) (\(columns.joined(separator: ", ")))")
        try createIndexes(db, collection, table: tableName)
    }

    /// Unique fields get a partial unique index (empty values exempt); declared indexes as declared;
    /// `created` an index for the default sort.
    static func createIndexes(_ db: Database, _ collection: CollectionModel, table: String) throws {
        let quotedTable = quoteIdentifier(table)
        try db.execute(sql: "CREATE INDEX \(quoteIdentifier("_\(collection.id)_created")) ON \(quotedTable) (\"created\")")
        for field in collection.fields where field.unique {
            let column = quoteIdentifier(field.name)
            let empty = field.isMultiple ? "'[]'" : SchemaMigration.emptyValue(field)
            try db.execute(sql: """
                CREATE UNIQUE INDEX \(quoteIdentifier("_\(collection.id)_\(field.id)_unique")) ON \(quotedTable) (\(column))
                WHERE \(column) IS NOT \(empty)
                """)
        }
        for (position, index) in collection.indexes.enumerated() {
            let columns = index.columns.map { column in
                quoteIdentifier(column.name) + (column.collation.map { " COLLATE \($0)" } ?? "") + (column.descending ? " DESC" : "")
            }.joined(separator: ", ")
            // The condition was checked to be one expression (IndexStatement); SQLite judges the rest.
            let sql = """
                CREATE \(index.unique ? "UNIQUE " : "")INDEX \(quoteIdentifier("_\(collection.id)_\(index.name)")) \
                ON \(quotedTable) (\(columns))\(index.condition.map { " WHERE \($0)" } ?? "")
                """
            do {
                let statement = try db.makeStatement(sql: sql)
                try statement.execute()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR || error.resultCode == .SQLITE_CONSTRAINT {
                // A condition naming an unknown column or function, or (UNIQUE) existing duplicates.
                let reason = error.resultCode == .SQLITE_CONSTRAINT ? "existing records hold duplicate values" : (error.message ?? "SQLite refused it")
                throw SchemaError(.invalidIndex, collection: collection.name, field: String(position),
                                  message: "index \"\(index.name)\" cannot be built: \(reason)")
            }
        }
    }

    static func dropIndexes(_ db: Database, table: String) throws {
        let names = try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL
            """, arguments: [table])
        for name in names { try db.execute(sql: "DROP INDEX \(quoteIdentifier(name))") }
    }

    /// Every access rule parses and names only fields the collection (and its relations) has, so a bad
    /// rule is refused when it is stored instead of breaking every listing later. Runs after the table
    /// exists in its new shape, in the same transaction.
    static func checkRules(_ db: Database, _ collection: CollectionModel) throws {
        let rules: [(String, String?)] = [
            ("listRule", collection.rules.list), ("viewRule", collection.rules.view), ("createRule", collection.rules.create),
            ("updateRule", collection.rules.update), ("deleteRule", collection.rules.delete),
        ]
        // The collection in its new shape first, so that paths through a self-relation resolve against it.
        let fields = CollectionFields(collection, all: [collection] + (try Self.all(db)))
        for case (let key, let rule?) in rules where !rule.isEmpty {
            do {
                _ = try FilterSQL.compile(rule, fields: fields, context: FilterContext())
            } catch {
                throw SchemaError(.invalidRule, collection: collection.name, field: key, message: "\(error.description)")
            }
        }
    }

    /// `collection` with each relation field's target named both ways, by id and by name (PocketBase's
    /// `collectionId`, which may also hold a name; else Burg's `collection` name). The collection
    /// itself is a valid target (a self-relation); a target that does not exist is refused naming it.
    private static func resolveRelations(_ db: Database, _ collection: CollectionModel) throws -> CollectionModel {
        var resolved = collection
        for index in resolved.fields.indices where resolved.fields[index].type == .relation {
            let field = resolved.fields[index]
            let reference = field.collectionId ?? field.collection ?? ""
            let target: (id: String, name: String)?
            if reference == collection.id || reference.lowercased() == collection.name.lowercased() {
                target = (collection.id, collection.name)
            } else {
                target = try Row.fetchOne(db, sql: "SELECT id, name FROM _collections WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1",
                                          arguments: [reference, reference, reference]).map { ($0["id"], $0["name"]) }
            }
            guard let target else {
                let key = field.collectionId == nil ? "collection" : "collectionId"
                throw SchemaError(.invalidOptions, collection: collection.name, field: field.name,
                    message: "refers to collection \"\(reference)\" (its \(key)), which does not exist; give the id or name of an existing collection")
            }
            if let name = field.collection, field.collectionId != nil, name.lowercased() != target.name.lowercased() {
                throw SchemaError(.invalidOptions, collection: collection.name, field: field.name,
                    message: "names collection \"\(name)\" but its collectionId \"\(reference)\" is collection \"\(target.name)\"; give one of them")
            }
            resolved.fields[index].collectionId = target.id
            resolved.fields[index].collection = target.name
        }
        return resolved
    }

    /// After `renamed` got a new name: every relation field that refers to it (by id, or by its old
    /// name in a definition stored before relations kept ids) is told the new name, in the same
    /// transaction, so expand, filters and seeding keep following it.
    private static func renameRelations(_ db: Database, from oldName: String, to renamed: CollectionModel) throws {
        func refers(_ field: Field) -> Bool {
            guard field.type == .relation else { return false }
            if let id = field.collectionId { return id == renamed.id }
            return field.collection?.lowercased() == oldName.lowercased()
        }
        for var other in try all(db) where other.id != renamed.id {
            var changed = false
            for index in other.fields.indices where refers(other.fields[index]) {
                other.fields[index].collectionId = renamed.id
                other.fields[index].collection = renamed.name
                changed = true
            }
            if changed {
                try db.execute(sql: "UPDATE _collections SET definition = ? WHERE id = ?", arguments: [try Self.encode(other), other.id])
            }
        }
    }
}
