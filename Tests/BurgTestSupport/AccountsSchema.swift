import BurgStore
import Foundation
import GRDB

/// The schema of backup consistency tests: accounts whose balances move between rows in transactions
/// that keep the total constant, so any snapshot that is not from one instant shows a different total.
public enum AccountsSchema {
    public static let accounts = 200
    public static let initialBalance = 1_000

    public static let migrations: StoreMigrations = .store + {
        var migrations = StoreMigrations()
        migrations.append("test.0001-accounts") { db in
            try db.execute(sql: "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, note BLOB)")
            for id in 0..<accounts {
                try db.sqlite.execute(sql: "INSERT INTO accounts (id, balance) VALUES (?, ?)", arguments: [id, initialBalance])
            }
        }
        return migrations
    }()

    public static var total: Int { accounts * initialBalance }

    /// Moves a random amount from one random account to another (each update in its own statement,
    /// so a torn read between them would break the total).
    public static func transfer(_ db: Database, using generator: inout some RandomNumberGenerator) throws {
        let from = Int.random(in: 0..<accounts, using: &generator)
        let to = (from + Int.random(in: 1..<accounts, using: &generator)) % accounts
        let amount = Int.random(in: 1...50, using: &generator)
        try db.execute(sql: "UPDATE accounts SET balance = balance - ?, note = randomblob(512) WHERE id = ?", arguments: [amount, from])
        try db.execute(sql: "UPDATE accounts SET balance = balance + ?, note = randomblob(512) WHERE id = ?", arguments: [amount, to])
    }

    public static func sum(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT SUM(balance) FROM accounts") ?? 0
    }
}
