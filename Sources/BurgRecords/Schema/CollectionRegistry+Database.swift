import GRDB

extension CollectionRegistry {
    /// The collection named `name` (case-insensitive), read in the caller's transaction.
    public static func collection(named name: String, in db: Database) throws -> Collection {
        try load(db, name)
    }

    /// The collection with id `id`, or nil.
    public static func collection(id: String, in db: Database) throws -> Collection? {
        try String.fetchOne(db, sql: "SELECT name FROM _collections WHERE id = ?", arguments: [id]).map { try load(db, $0) }
    }
}

extension RecordStore {
    /// The record `id` of `collection`, read in the caller's transaction (hidden fields excluded).
    public static func record(in db: Database, collection: Collection, id: String) throws -> Record {
        try fetch(db, collection, id)
    }
}

extension RecordError {
    public init(_ code: Code, collection: String, message: String) {
        self.init(code: code, collection: collection, message: message)
    }
}
