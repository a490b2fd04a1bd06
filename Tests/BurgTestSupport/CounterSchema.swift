import BurgStore
import Foundation
import GRDB

/// The schema of BurgStore's multi-process tests: one counter that child processes increment with
/// read-modify-write transactions, and a log row per increment so that a test can check that every
/// acknowledged increment survived.
public enum CounterSchema {
    public static let migrations: StoreMigrations = .store + {
        var migrations = StoreMigrations()
        migrations.append("test.0001-counter") { db in
            try db.execute(sql: """
                CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL);
                INSERT INTO counter (id, value) VALUES (1, 0);
                CREATE TABLE increments (value INTEGER PRIMARY KEY, pid INTEGER NOT NULL, payload BLOB);
                CREATE TABLE names (name TEXT NOT NULL UNIQUE);
                """)
        }
        return migrations
    }()

    /// Reads the counter, writes it plus one, logs the new value; returns it. `payloadBytes` of filler
    /// make the transaction longer (for crash tests).
    public static func increment(_ db: Database, pid: Int32, payloadBytes: Int = 0) throws -> Int {
        let value = try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE id = 1") ?? 0
        try db.execute(sql: "UPDATE counter SET value = ? WHERE id = 1", arguments: [value + 1])
        let payload: Data? = payloadBytes > 0 ? Data(repeating: UInt8(truncatingIfNeeded: value), count: payloadBytes) : nil
        try db.execute(
            sql: "INSERT INTO increments (value, pid, payload) VALUES (?, ?, ?)",
            arguments: [value + 1, pid, payload])
        return value + 1
    }

    public static func value(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE id = 1") ?? 0
    }
}
