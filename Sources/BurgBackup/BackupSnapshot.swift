import BurgCore
import Foundation
import GRDB
import SystemPackage

/// Facts read from a database snapshot, the same way at backup and at verification.
enum BackupSnapshot {
    /// Rows per collection (`_collections` names their tables); empty for a database without collections.
    static func rowCounts(_ db: Database) throws -> [String: Int] {
        guard try db.tableExists("_collections") else { return [:] }
        var counts: [String: Int] = [:]
        for name in try String.fetchAll(db, sql: "SELECT name FROM _collections") where try db.tableExists(name) {
            counts[name] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"") ?? 0
        }
        return counts
    }

    /// Applied migrations, in order.
    static func migrations(_ db: Database) throws -> [String] {
        guard try db.tableExists("grdb_migrations") else { return [] }
        return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
    }

    /// Removes temporary files and directories of backups whose process is gone (killed mid-way).
    @discardableResult
    static func removeLeftovers(in directory: FilePath) -> Int {
        let listed = (try? FileManager.default.contentsOfDirectory(atPath: directory.string)) ?? []
        var removed = 0
        for entry in listed where entry.hasPrefix(".") {
            guard let marker = entry.range(of: AtomicFile.temporaryMarker) else { continue }
            let rest = entry[marker.upperBound...]
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), !ProcessIdentity.isAlive(pid) else { continue }
            if (try? FileManager.default.removeItem(atPath: directory.appending(entry).string)) != nil { removed += 1 }
        }
        return removed
    }
}
