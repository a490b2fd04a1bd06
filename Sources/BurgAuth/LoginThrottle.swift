import BurgCore
import BurgStore
import Foundation
internal import GRDB

/// Counts failed sign-ins per identity and per client address, in the database so that a restart does
/// not reset a lockout, and decides who must wait (``LockoutPolicy``).
struct LoginThrottle: Sendable {
    let policy: LockoutPolicy

    static func identityKey(collection: String, identity: String) -> String {
        "identity:\(collection.lowercased()):\(identity.lowercased())"
    }

    static func addressKey(_ address: String) -> String { "ip:\(address)" }

    /// How long `keys` must still wait, if any of them is locked at `now`.
    func lockedFor(_ keys: [String], now: Date, _ transaction: StoreTransaction) throws -> Duration? {
        let db = transaction.sqlite
        var longest: TimeInterval = 0
        for key in keys {
            if let until = try Double.fetchOne(db, sql: "SELECT locked_until FROM _auth_attempts WHERE key = ?", arguments: [key]) {
                longest = max(longest, until - now.timeIntervalSince1970)
            }
        }
        return longest > 0 ? .milliseconds(Int64((longest * 1000).rounded(.up))) : nil
    }

    /// Counts a failure for each key; returns the keys that became locked by it.
    func recordFailure(_ keys: [(key: String, limit: Int)], now: Date, _ transaction: StoreTransaction) throws -> [String] {
        let db = transaction.sqlite
        let time = now.timeIntervalSince1970
        let window = policy.window.seconds
        var locked: [String] = []
        for (key, limit) in keys {
            let row = try Row.fetchOne(db, sql: "SELECT failures, window_start FROM _auth_attempts WHERE key = ?", arguments: [key])
            var failures = 1
            var windowStart = time
            if let row, time - (row["window_start"] as Double) < window {
                failures = (row["failures"] as Int) + 1
                windowStart = row["window_start"]
            }
            var lockedUntil = 0.0
            if failures >= limit {
                lockedUntil = time + policy.lockoutDuration.seconds
                locked.append(key)
                // The next window starts after the lockout: one more failure then locks again only
                // after another `limit` failures.
                failures = 0
                windowStart = lockedUntil
            }
            let dialect = transaction.dialect
            let upsert = dialect.upsert(onConflict: ["key"], set: [
                "failures = \(dialect.excluded("failures"))", "window_start = \(dialect.excluded("window_start"))",
                "locked_until = max(locked_until, \(dialect.excluded("locked_until")))",
            ])
            try db.execute(sql: """
                INSERT INTO _auth_attempts (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
                \(upsert)
                """, arguments: [key, failures, windowStart, lockedUntil])
        }
        return locked
    }

    /// A successful sign-in clears the identity's counter (not the address's: one address succeeding
    /// with one account does not excuse its failures with others).
    func recordSuccess(_ key: String, _ transaction: StoreTransaction) throws {
        let db = transaction.sqlite
        try db.execute(sql: "DELETE FROM _auth_attempts WHERE key = ?", arguments: [key])
    }

    /// Forgets counters that can no longer lock anyone.
    func prune(now: Date, _ transaction: StoreTransaction) throws {
        let db = transaction.sqlite
        let time = now.timeIntervalSince1970
        try db.execute(sql: "DELETE FROM _auth_attempts WHERE locked_until < ? AND window_start < ?",
                       arguments: [time, time - policy.window.seconds])
    }
}
