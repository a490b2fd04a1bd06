import BurgRecords
import BurgStore
import Foundation

/// Where `/api/settings` keeps what a superuser changed: `_settings`, one row per section that was ever
/// saved (its whole JSON, secrets included, as the server uses it), each with the number of the save
/// that wrote it. Sections never saved are not stored, so they follow the defaults of the Burg that runs.
public enum SettingsSchema {
    public static let migrations: StoreMigrations = {
        var migrations = StoreMigrations()
        migrations.append("server.0001-settings") { db in
            try db.execute(sql: """
                CREATE TABLE _settings (
                    section TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL CHECK (json_valid(value)),
                    version INTEGER NOT NULL,
                    updated TEXT NOT NULL
                ) STRICT;
                """)
        }
        return migrations
    }()
}

/// The stored sections and the number of the last save.
struct StoredSettings: Sendable, Equatable {
    var sections: [String: JSONValue] = [:]
    var version = 0

    /// Reads `_settings` in the caller's transaction; nothing stored (or no table: a store opened
    /// without this migration) reads as empty.
    static func read(_ db: StoreTransaction) throws -> StoredSettings {
        guard try db.tableExists("_settings") else { return StoredSettings() }
        var stored = StoredSettings()
        let rows = try db.column(sql: "SELECT json_object('section', section, 'value', json(value), 'version', version) FROM _settings")
        for row in rows {
            guard let text = row.text, case .object(let object)? = try? JSONValue.parse(text),
                  case .string(let section)? = object["section"], let value = object["value"],
                  case .number(let version)? = object["version"] else { continue }
            stored.sections[section] = value
            stored.version = max(stored.version, Int(version))
        }
        return stored
    }

    /// Writes `sections` as save number `version`, in the caller's transaction.
    static func write(_ sections: [String: JSONValue], version: Int, _ db: StoreTransaction) throws {
        let now = FilterSQL.formatDate(Date())
        for (section, value) in sections.sorted(by: { $0.key < $1.key }) {
            try db.execute(
                sql: """
                    INSERT INTO _settings (section, value, version, updated) VALUES (?, ?, ?, ?)
                    ON CONFLICT (section) DO UPDATE SET value = excluded.value, version = excluded.version, updated = excluded.updated
                    """,
                arguments: [.text(section), .text(value.jsonText), .integer(Int64(version)), .text(now)])
        }
    }
}
