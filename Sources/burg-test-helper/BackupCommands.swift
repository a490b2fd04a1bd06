import ArgumentParser
import BurgBackup
import BurgStore
import BurgTestSupport
import Foundation
import SystemPackage

/// Moves money between accounts forever (constant total), printing `transfers N` every 200 transfers;
/// the writer of backup consistency tests.
struct AccountTransfers: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "account-transfers")
    @Option var dataDir: String

    func run() throws {
        let store = try Store(StoreConfiguration(dataDirectory: FilePath(dataDir)), migrations: AccountsSchema.migrations + BackupHistory.migrations)
        var generator = SystemRandomNumberGenerator()
        var count = 0
        say("ready")
        while true {
            try store.write { db in try AccountsSchema.transfer(db.sqlite, using: &generator) }
            count += 1
            if count % 200 == 0 { say("transfers \(count)") }
        }
    }
}
