import BurgCore
import BurgStore
import Foundation
internal import GRDB

/// One backup as recorded after its verification.
public struct BackupRecord: Sendable, Codable, Equatable {
    public var file: String
    public var createdAt: String
    public var size: Int64
    public var durationMilliseconds: Int64
    public var sha256: String
    public var verified: Bool
    public var error: String
}

/// The backup history (`_backups`: one row per verification) and the health verdict of the backups.
public struct BackupHistory: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    public static let migrations: StoreMigrations = {
        var migrations = StoreMigrations()
        migrations.append("backup.0001-history") { db in
            try db.execute(sql: """
                CREATE TABLE _backups (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    file TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    duration_ms INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    verified INTEGER NOT NULL,
                    error TEXT NOT NULL DEFAULT ''
                ) STRICT;
                CREATE INDEX _backups_created ON _backups (created_at);
                """)
        }
        return migrations
    }()

    public func append(_ record: BackupRecord) throws {
        try store.write { db in
            try db.sqlite.execute(sql: """
                INSERT INTO _backups (file, created_at, size, duration_ms, sha256, verified, error) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.file, record.createdAt, record.size, record.durationMilliseconds, record.sha256, record.verified, record.error])
        }
    }

    /// The history as recorded, newest first (also rows of archives since deleted); what is on disk
    /// now is ``BackupInventory/list()``.
    public func list(limit: Int = 100) throws -> [BackupRecord] {
        try store.read { db in
            try Row.fetchAll(db.sqlite, sql: "SELECT * FROM _backups ORDER BY created_at DESC, id DESC LIMIT ?", arguments: [limit]).map {
                BackupRecord(file: $0["file"], createdAt: $0["created_at"], size: $0["size"], durationMilliseconds: $0["duration_ms"],
                    sha256: $0["sha256"], verified: $0["verified"], error: $0["error"])
            }
        }
    }

    /// Judged from the archives on disk (``BackupInventory``), so a restore does not hide them: healthy
    /// while the newest archive was verified and the newest verified one is younger than `maxAge`;
    /// degraded otherwise (also when there is none yet, or none the history knows).
    public func health(maxAge: Duration, now: Date = Date()) throws -> BackupHealth {
        let archives = try BackupInventory(store: store).list()
        let newestVerified = archives.first { $0.status == .verified }
        var health = BackupHealth(status: .healthy, lastBackup: archives.first?.createdAt, lastVerified: newestVerified?.createdAt, problem: nil)
        if let last = archives.first, last.status == .failed {
            health.status = .degraded
            health.problem = "the last backup (\(last.file)) failed verification: \(last.error)"
        } else if newestVerified == nil {
            health.status = .degraded
            let unknown = archives.filter { $0.status == .unverified }.count
            health.problem = unknown == 0
                ? "no verified backup yet; run `burg backup create`"
                : "no verified backup: \(unknown) archive(s) in backups/ are not in the history yet; `burg backup list` verifies them"
        } else if let created = newestVerified.flatMap({ Self.parse($0.createdAt) }), now.timeIntervalSince(created) > maxAge.seconds {
            health.status = .degraded
            health.problem = "the newest verified backup is older than \(formatDuration(maxAge))"
        }
        return health
    }

    static func parse(_ text: String) -> Date? {
        utcFormatter(recordDateFormat).date(from: text)
    }
}

/// Backups' contribution to `/api/health`.
public struct BackupHealth: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case healthy, degraded }
    public var status: Status
    public var lastBackup: String?
    public var lastVerified: String?
    public var problem: String?
}
