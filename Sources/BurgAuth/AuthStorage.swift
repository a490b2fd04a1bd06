import BurgRecords
import BurgStore
internal import GRDB

/// The SQL of the columns only auth records have (`password`, `tokenKey`, `lastLogin`, the `email`
/// sign-in looks up), which ``RecordStore`` never returns. ``Authenticator`` asks these and holds no
/// SQL of its own.
enum AuthStorage {
    private static func table(_ collection: String) -> String {
        "\"\(collection.replacingOccurrences(of: "\"", with: "\"\""))\""
    }

    /// The id and password hash of the record signing in as `email` (already normalised), if any.
    static func credentials(email: String, in collection: String, _ db: StoreTransaction) throws -> (id: String, password: String)? {
        try Row.fetchOne(db.sqlite, sql: "SELECT id, password FROM \(table(collection)) WHERE email = ?", arguments: [email])
            .map { ($0["id"], $0["password"]) }
    }

    /// The id of the record whose email is `email`, if any.
    static func recordID(email: String, in collection: String, _ db: StoreTransaction) throws -> String? {
        try String.fetchOne(db.sqlite, sql: "SELECT id FROM \(table(collection)) WHERE email = ?", arguments: [email])
    }

    /// The stored password hash of record `id`.
    static func passwordHash(id: String, in collection: String, _ db: StoreTransaction) throws -> String? {
        try String.fetchOne(db.sqlite, sql: "SELECT password FROM \(table(collection)) WHERE id = ?", arguments: [id])
    }

    /// Record `id`'s token key (its tokens carry a fingerprint of it; a new key voids them), or nil
    /// when the record is gone.
    static func tokenKey(id: String, in collection: String, _ db: StoreTransaction) throws -> String? {
        try String.fetchOne(db.sqlite, sql: "SELECT tokenKey FROM \(table(collection)) WHERE id = ?", arguments: [id])
    }

    /// Notes a successful sign-in's time (PocketBase's date text) on record `id`.
    static func recordSignIn(id: String, at time: String, in collection: String, _ db: StoreTransaction) throws {
        try db.sqlite.execute(sql: "UPDATE \(table(collection)) SET lastLogin = ? WHERE id = ?", arguments: [time, id])
    }

    /// How many records `collection` has.
    static func count(in collection: String, _ db: StoreTransaction) throws -> Int {
        try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM \(table(collection))") ?? 0
    }
}
