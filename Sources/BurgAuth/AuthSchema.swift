import BurgStore

/// BurgAuth's tables: failed sign-in counters (for the lockout) and the audit log.
public enum AuthSchema {
    public static let migrations: StoreMigrations = {
        var migrations = StoreMigrations()
        migrations.append("auth.0001-attempts-audit") { db in
            try db.execute(sql: """
                CREATE TABLE _auth_attempts (
                    key TEXT PRIMARY KEY NOT NULL,
                    failures INTEGER NOT NULL,
                    window_start REAL NOT NULL,
                    locked_until REAL NOT NULL DEFAULT 0
                ) STRICT;
                CREATE TABLE _audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    collection TEXT NOT NULL DEFAULT '',
                    record_id TEXT NOT NULL DEFAULT '',
                    fields TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(fields)),
                    ip TEXT NOT NULL DEFAULT '',
                    detail TEXT NOT NULL DEFAULT ''
                ) STRICT;
                CREATE INDEX _audit_at ON _audit (at);
                CREATE INDEX _audit_action_at ON _audit (action, at);
                CREATE INDEX _audit_collection_record ON _audit (collection, record_id);
                """)
        }
        return migrations
    }()
}
