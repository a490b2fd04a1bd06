import BurgStore
internal import GRDB

extension CollectionRegistry {
    /// The collection named `name` (case-insensitive), read in the caller's transaction.
    public static func collection(named name: String, in db: StoreTransaction) throws -> CollectionModel {
        try load(db.sqlite, name)
    }

    /// The names of every collection (each one's table), in the caller's transaction; none for a
    /// database that has no collections table (one made before BurgRecords' migrations ran).
    public static func names(in db: StoreTransaction) throws -> [String] {
        guard try db.sqlite.tableExists("_collections") else { return [] }
        return try String.fetchAll(db.sqlite, sql: "SELECT name FROM _collections ORDER BY name")
    }

    /// Whether a collection named `name` exists (case-insensitive, as names are unique).
    public static func exists(_ name: String, in db: StoreTransaction) throws -> Bool {
        try Bool.fetchOne(db.sqlite, sql: "SELECT 1 FROM _collections WHERE name = ? COLLATE NOCASE", arguments: [name]) ?? false
    }

    /// The collection with id `id`, or nil.
    public static func collection(id: String, in db: StoreTransaction) throws -> CollectionModel? {
        try String.fetchOne(db.sqlite, sql: "SELECT name FROM _collections WHERE id = ?", arguments: [id]).map { try load(db.sqlite, $0) }
    }
}

extension RecordStore {
    /// The record `id` of `collection`, read in the caller's transaction (hidden fields excluded).
    public static func record(in db: StoreTransaction, collection: CollectionModel, id: String) throws -> RecordModel {
        try fetch(db.sqlite, collection, id)
    }
}

extension RecordError {
    public init(_ code: Code, collection: String, message: String) {
        self.init(code: code, collection: collection, message: message)
    }
}
