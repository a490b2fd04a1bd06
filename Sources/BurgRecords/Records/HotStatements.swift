internal import GRDB
import Synchronization

/// Prepared statements kept per connection for the SQL that list requests repeat (a filter's shape
/// with its values bound as arguments): preparing a page query costs about as much as running it.
/// Filters come from clients, so the number of distinct texts kept is bounded: past ``limit`` texts,
/// new ones are prepared for one use as before.
enum HotStatements {
    static let limit = 256
    private static let kept = Mutex<Set<String>>([])

    static func statement(_ db: Database, sql: String) throws -> Statement {
        let keep = kept.withLock { kept in
            if kept.contains(sql) { return true }
            guard kept.count < limit else { return false }
            kept.insert(sql)
            return true
        }
        return keep ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }
}
