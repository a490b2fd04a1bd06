import BurgStore
import BurgTestSupport
import Foundation
import Testing
import GRDB

@Suite struct StoreWriteTests {
    /// Half the processes use the default per-attempt lock wait, half a zero one, so that both the busy
    /// handler and the whole-closure retry carry contention.
    @Test func eightProcessesIncrementingAThousandTimesEachEndWithTheExactCountAndNoError() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        let go = dir.path("go")
        let processes = 8
        let count = 1000
        let children = try (0..<processes).map { index in
            try startHelper(
                ["store-increment", "--data-dir", data, "--count", "\(count)", "--start-file", go.string]
                    + (index % 2 == 0 ? [] : ["--busy-timeout-ms", "0"]))
        }
        for child in children { try child.waitForLine("ready") }
        #expect(FileManager.default.createFile(atPath: go.string, contents: Data()))

        var retries = 0
        var busyWaits = 0
        for child in children {
            let line = try child.waitForLine(timeout: .seconds(180)) { $0.hasPrefix("done") || $0.hasPrefix("error") }
            #expect(line.hasPrefix("done"), "\(child.commandLine): \(line)")
            #expect(try child.wait() == 0)
            let figures = fields(line)
            #expect(figures["writes"] == count)
            retries += figures["retries"] ?? 0
            busyWaits += figures["busyWaits"] ?? 0
        }
        let store = try openCounterStore(dir.storeConfiguration)
        let (value, rows) = try store.read { db in
            (try CounterSchema.value(db.sqlite), try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM increments") ?? 0)
        }
        #expect(value == processes * count)
        #expect(rows == processes * count)
        #expect(retries > 0, "the zero-wait processes should have retried whole closures")
        #expect(busyWaits > 0, "the default processes should have waited in the busy handler")
    }

    @Test func aDeferredReadThenWriteThatMeetsBusySnapshotIsRetriedAsAWhole() throws {
        let dir = try TemporaryDirectory()
        let store = try openCounterStore(dir.storeConfiguration)
        var runs = 0
        let written = try store.writeWithoutTransaction { db -> Int in
            runs += 1
            var newValue = 0
            // DEFERRED on purpose: the snapshot starts at the SELECT, the write lock is asked for at the UPDATE.
            try db.sqlite.inTransaction(.deferred) {
                let value = try CounterSchema.value(db.sqlite)
                if runs == 1 {
                    // Another process commits after our snapshot began: our snapshot is now stale.
                    let other = try startHelper(["store-increment", "--data-dir", dir.path("data").string, "--count", "1"])
                    try other.waitForLine(timeout: .seconds(30)) { $0.hasPrefix("done") }
                    #expect(try other.wait() == 0)
                }
                newValue = value + 10
                try db.sqlite.execute(sql: "UPDATE counter SET value = ? WHERE id = 1", arguments: [newValue])
                return .commit
            }
            return newValue
        }
        #expect(runs == 2)
        #expect(written == 11)
        #expect(try store.read { try CounterSchema.value($0.sqlite) } == 11)
        #expect(store.statistics.retriesByCode[517] == 1, "\(store.statistics.retriesByCode)")
    }

    @Test func aUniqueViolationPropagatesAtOnceUnretriedWithItsCode() throws {
        let dir = try TemporaryDirectory()
        let store = try openCounterStore(dir.storeConfiguration)
        try store.write { db in try db.execute(sql: "INSERT INTO names (name) VALUES ('ada')") }
        var runs = 0
        let error = #expect(throws: StoreError.self) {
            try store.write { db in
                runs += 1
                try db.execute(sql: "INSERT INTO names (name) VALUES ('ada')")
            }
        }
        #expect(error?.code == .constraint)
        #expect(error?.sqliteCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
        #expect(error?.attempts == 1)
        #expect(error?.statement?.contains("INSERT INTO names") == true)
        #expect(error?.exitCode == 65)
        #expect(runs == 1)
        #expect(store.statistics.retries == 0)
        #expect(store.statistics.failedWrites == 1)
        #expect(try store.read { try Int.fetchOne($0.sqlite, sql: "SELECT COUNT(*) FROM names") } == 1)
    }

    @Test func aWriteBlockedPastItsDeadlineFailsAsBusyWithAttemptsAndTimeWaited() throws {
        let dir = try TemporaryDirectory()
        var configuration = dir.storeConfiguration
        configuration.busyTimeout = .milliseconds(50)
        configuration.retry.deadline = .milliseconds(400)
        let store = try openCounterStore(configuration)
        // A second connection holds the write lock for the whole attempt window.
        var blockerConfiguration = Configuration()
        blockerConfiguration.allowsUnsafeTransactions = true  // the transaction spans two accesses on purpose
        let blocker = try DatabaseQueue(path: configuration.databasePath.string, configuration: blockerConfiguration)
        try blocker.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        defer { try? blocker.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") } }

        let started = ContinuousClock.now
        let error = #expect(throws: StoreError.self) {
            try store.write { db in _ = try CounterSchema.increment(db.sqlite, pid: 0) }
        }
        #expect(error?.code == .busy)
        #expect(error?.sqliteCode == 5)
        #expect((error?.attempts ?? 0) > 1)
        #expect((error?.waited ?? .zero) >= .milliseconds(400))
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(error?.description.contains(configuration.databasePath.string) == true)
        #expect(error?.exitCode == 75)
    }

    @Test func statisticsCountReadsWritesAndLatencies() async throws {
        let dir = try TemporaryDirectory()
        let store = try openCounterStore(dir.storeConfiguration)
        for _ in 0..<20 { _ = try await store.write { db in try CounterSchema.increment(db.sqlite, pid: 1) } }
        let value = try await store.read { db in try CounterSchema.value(db.sqlite) }
        #expect(value == 20)
        let statistics = store.statistics
        #expect(statistics.writes >= 20)
        #expect(statistics.reads >= 1)
        #expect(statistics.commitLatency.count >= 20)
        #expect(statistics.commitLatency.p99 >= statistics.commitLatency.p50)
        #expect(statistics.longestWrite > .zero)
    }
}
