import BurgRecords
import BurgStore
import Foundation
internal import GRDB
import SystemPackage

/// Facts read from a database snapshot, the same way at backup and at verification.
enum BackupSnapshot {
    /// Rows per collection (each names its table); empty for a database without collections.
    static func rowCounts(_ db: Database) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for name in try CollectionRegistry.names(in: StoreTransaction(db)) where try db.tableExists(name) {
            counts[name] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"") ?? 0
        }
        return counts
    }

    /// Applied migrations, in order.
    static func migrations(_ db: Database) throws -> [String] {
        guard try db.tableExists("grdb_migrations") else { return [] }
        return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
    }
}
