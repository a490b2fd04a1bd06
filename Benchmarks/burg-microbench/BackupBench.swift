import ArgumentParser
import BurgBackup
import BurgCore
import BurgStore
import Foundation
import Histogram
import Synchronization
import SystemPackage

/// Backup throughput on a large database and its effect on a concurrent writer: single-row insert
/// transactions (what an API create costs at the store) timed one by one, first alone, then while a
/// backup (snapshot, archive, verification) runs. Prints one JSON line.
struct BackupBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup")
    @Option(help: "Data directory (created; reused if it already has the data).") var dir: String
    @Option(help: "Database size to build, in MB.") var sizeMb = 1000
    @Option(help: "Seconds of writing without a backup.") var baselineSeconds = 10.0

    static let migrations = StoreMigrations.store + {
        var migrations = StoreMigrations()
        migrations.append("bench.0001-backup-rows") { db in
            try db.execute(sql: "CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            try db.execute(sql: "CREATE TABLE writes (id INTEGER PRIMARY KEY, at REAL NOT NULL, body TEXT NOT NULL)")
        }
        return migrations
    }() + BackupHistory.migrations

    func run() throws {
        let dataDir = FilePath(dir)
        let store = try Store(StoreConfiguration(dataDirectory: dataDir), migrations: Self.migrations)
        let wanted = sizeMb * 256  // 4 KiB rows
        let existing = try store.read { db in try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM rows") ?? 0 }
        var id = existing
        while id < wanted {
            try store.write { db in
                for _ in 0..<2000 where id < wanted {
                    try db.sqlite.execute(sql: "INSERT INTO rows (id, body) VALUES (?, randomblob(4000))", arguments: [id])
                    id += 1
                }
            }
        }
        _ = try store.checkpoint(.truncate)
        let databaseBytes = (try? FileManager.default.attributesOfItem(atPath: dataDir.appending("data.db").string)[.size] as? NSNumber)?.int64Value ?? 0

        let baseline = try write(store, until: { $0 >= baselineSeconds })
        let done = Atomic<Bool>(false)
        let backupResult = Mutex<(seconds: Double, bytes: Int64, verified: Bool)?>(nil)
        let thread = Thread {
            let started = ContinuousClock.now
            let result = try? BackupCreator(store: store, dataDirectory: dataDir, knownMigrations: Self.migrations.identifiers).create()
            backupResult.withLock { $0 = result.map { ((ContinuousClock.now - started).seconds, $0.record.size, $0.record.verified) } }
            done.store(true, ordering: .releasing)
        }
        thread.start()
        let during = try write(store, until: { _ in done.load(ordering: .acquiring) })
        guard let backup = backupResult.withLock({ $0 }) else { throw ValidationError("the backup failed") }
        let megabytes = Double(databaseBytes) / 1e6
        print("{\"databaseMB\": \(Int(megabytes)), \"backupSeconds\": \(backup.seconds), \"backupMBps\": \(Int(megabytes / backup.seconds)), "
            + "\"archiveBytes\": \(backup.bytes), \"verified\": \(backup.verified), "
            + "\"writesPerSecondAlone\": \(Int(baseline.rate)), \"writesPerSecondDuringBackup\": \(Int(during.rate)), "
            + "\"throughputRatio\": \(during.rate / baseline.rate), "
            + "\"p99usAlone\": \(baseline.p99), \"p99usDuringBackup\": \(during.p99), \"maxusAlone\": \(baseline.max), \"maxusDuringBackup\": \(during.max)}")
    }

    private func write(_ store: Store, until stop: (Double) -> Bool) throws -> (rate: Double, p99: UInt64, max: UInt64) {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        let started = ContinuousClock.now
        var count = 0
        var elapsed = 0.0
        let body = String(repeating: "x", count: 200)
        while !stop(elapsed) {
            let begin = ContinuousClock.now
            try store.write { db in
                try db.sqlite.execute(sql: "INSERT INTO writes (at, body) VALUES (?, ?)", arguments: [Date().timeIntervalSince1970, body])
            }
            histogram.record(UInt64((ContinuousClock.now - begin).seconds * 1e6))
            count += 1
            elapsed = (ContinuousClock.now - started).seconds
        }
        return (Double(count) / elapsed, histogram.valueAtPercentile(99), histogram.max)
    }
}
