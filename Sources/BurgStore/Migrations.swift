import BurgCore
internal import GRDB
import SystemPackage

/// The schema of a Burg database as an ordered, append-only list of named migrations.
///
/// Each capability (records, auth, jobs...) appends its migrations; a migration, once released, is never
/// edited or removed — a change is a new migration. A store applies the missing ones when it opens, each
/// in its own `BEGIN IMMEDIATE` transaction, and refuses a database that has migrations this build does
/// not know (it was migrated by a newer Burg): opening it could corrupt data the newer schema relies on.
public struct StoreMigrations: Sendable {
    struct Migration: Sendable {
        var identifier: String
        var body: @Sendable (StoreTransaction) throws -> Void
    }

    private(set) var migrations: [Migration] = []

    public init() {}

    /// Appends a migration. Identifiers must be unique; by convention `"<module>.<nnnn>-<what>"`.
    public mutating func append(_ identifier: String, _ body: @escaping @Sendable (StoreTransaction) throws -> Void) {
        precondition(!migrations.contains { $0.identifier == identifier }, "duplicate migration \(identifier)")
        migrations.append(Migration(identifier: identifier, body: body))
    }

    /// The identifiers, in order.
    public var identifiers: [String] { migrations.map(\.identifier) }

    /// The store's own migrations, which come first in every Burg database.
    public static let store: StoreMigrations = {
        var result = StoreMigrations()
        result.append("store.0001-burg-meta") { db in
            // Facts about the database itself: which Burg created it and which last migrated it.
            try db.execute(sql: """
                CREATE TABLE _burg_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) STRICT;
                INSERT INTO _burg_meta (key, value) VALUES ('created_by', '\(BurgVersion.current)');
                """)
        }
        return result
    }()

    /// The store's migrations followed by `other`'s.
    public static func + (lhs: StoreMigrations, rhs: StoreMigrations) -> StoreMigrations {
        var result = lhs
        for migration in rhs.migrations { result.append(migration.identifier, migration.body) }
        return result
    }

    var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.identifier) { db in try migration.body(StoreTransaction(db)) }
        }
        return migrator
    }
}

/// Where a database's schema stands relative to this build.
public struct SchemaVersion: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Number of migrations applied to the database.
    public var applied: Int
    /// The last migration applied, nil for an empty database.
    public var latest: String?
    /// Migrations in the database that this build does not know (non-empty: a newer Burg migrated it).
    public var unknown: [String]
    /// Migrations this build knows that the database lacks.
    public var pending: [String]
    /// The Burg version that last migrated the database, when recorded.
    public var migratedBy: String?

    public var description: String {
        "\(applied) migrations" + (latest.map { ", latest \($0)" } ?? "")
            + (pending.isEmpty ? "" : ", \(pending.count) pending")
            + (unknown.isEmpty ? "" : ", \(unknown.count) unknown to this Burg: \(unknown.joined(separator: ", "))")
    }

    static func read(_ db: Database, migrations: StoreMigrations) throws -> SchemaVersion {
        // Not GRDB's appliedIdentifiers: it decides "no migrations yet" from a second query, which can
        // fail while another process is creating the database.
        func exists(_ table: String) throws -> Bool {
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)",
                arguments: [table]) ?? false
        }
        let appliedAll: Set<String> =
            try exists("grdb_migrations") ? String.fetchSet(db, sql: "SELECT identifier FROM grdb_migrations") : []
        let known = Set(migrations.identifiers)
        let appliedKnown = migrations.identifiers.filter { appliedAll.contains($0) }
        let migratedBy: String? =
            try exists("_burg_meta")
            ? String.fetchOne(db, sql: "SELECT value FROM _burg_meta WHERE key = 'migrated_by'") : nil
        return SchemaVersion(
            applied: appliedAll.count,
            latest: appliedKnown.last,
            unknown: appliedAll.subtracting(known).sorted(),
            pending: migrations.identifiers.filter { !appliedAll.contains($0) },
            migratedBy: migratedBy)
    }
}
