import BurgCore
@testable import BurgStore
import BurgTestSupport
import Foundation
import Testing

@Suite struct StoreHealthTests {
    @Test func aFreshStoreIsHealthy() throws {
        let dir = try TemporaryDirectory()
        let store = try openCounterStore(dir.storeConfiguration)
        let health = try store.health()
        #expect(health.verdict == .healthy, "\(health.reasons)")
        #expect(health.quickCheck.ok && health.quickCheck.completed)
        #expect(health.info.journalMode == "wal")
        #expect(health.info.schema.pending.isEmpty && health.info.schema.unknown.isEmpty)
        #expect(health.info.schema.applied == 2)
        #expect(!health.info.sqliteVersion.isEmpty && !health.compileOptions.isEmpty)
        #expect(health.info.fileSystem != nil)
    }

    /// The kernel's lock table of a busy machine is longer than one page; a reader listed far down in
    /// it is found all the same (it was not: only the first 4 KiB of /proc/locks were read).
    @Test func aSnapshotReaderIsFoundWhenTheKernelsLockTableIsLong() throws {
        let dir = try TemporaryDirectory()
        let configuration = dir.storeConfiguration
        let store = try openCounterStore(configuration)
        // 300 POSIX locks of this process on files of its own come before the reader's in the table.
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        for index in 0..<300 {
            let fd = open(dir.path("filler-\(index)").string, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            var lock = flock()
            lock.l_type = Int16(F_WRLCK)
            lock.l_whence = Int16(SEEK_SET)
            try #require(fd >= 0 && fcntl(fd, F_SETLK, &lock) == 0)
            descriptors.append(fd)
        }
        let holder = try startHelper(["store-hold-snapshot", "--data-dir", dir.path("data").string, "--seconds", "60"])
        defer { holder.signal(SIGKILL) }
        try holder.waitForLine { $0.hasPrefix("holding") }
        let table = try #require(try AtomicFile.read("/proc/locks"))
        try #require(table.count > 8192, "the lock table is long (\(table.count) bytes)")
        #expect(WALReader.holding(shmPath: configuration.shmPath).contains { $0.pid == holder.pid && $0.command?.contains("store-hold-snapshot") == true })
        withExtendedLifetime(store) {}
    }

    @Test func aReaderHoldingASnapshotInAnotherProcessLetsWritersGoOnAndHealthReportsTheGrowingWAL() throws {
        let dir = try TemporaryDirectory()
        var configuration = dir.storeConfiguration
        configuration.walSizeLimit = 256 << 10
        let store = try openCounterStore(configuration)
        let holder = try startHelper(
            ["store-hold-snapshot", "--data-dir", dir.path("data").string, "--seconds", "120"])
        try holder.waitForLine { $0.hasPrefix("holding") }

        for _ in 0..<300 {
            _ = try store.write { db in try CounterSchema.increment(db.sqlite, pid: 1, payloadBytes: 4096) }
        }
        #expect(store.statistics.failedWrites == 0)
        let maintenance = StoreMaintenance(store: store)
        let results = maintenance.tick()
        #expect(results.count == 1 && results.first?.isComplete == false, "the reader keeps the checkpoint short")

        let health = try store.health()
        #expect(health.verdict == .degraded)
        #expect(health.info.walBytes > 256 << 10)
        let reason = health.reasons.first { $0.contains("WAL") } ?? ""
        #expect(reason.contains("pid \(holder.pid)"), "\(health.reasons)")
        #expect(reason.contains("store-hold-snapshot"), "\(health.reasons)")
        #expect(health.walReaders.contains { $0.pid == holder.pid })

        // Once the reader is gone, maintenance truncates the WAL and health recovers.
        holder.signal(SIGKILL)
        _ = try holder.wait()
        let after = maintenance.tick()
        #expect(after.last?.mode == .truncate && after.last?.walBytesAfter == 0, "\(after)")
        #expect(try store.health().verdict == .healthy)
        #expect(try store.read { try CounterSchema.value($0.sqlite) } == 300)
    }

    @Test func quickCheckStopsAtItsBudgetAndSaysSo() throws {
        let dir = try TemporaryDirectory()
        let store = try openCounterStore(dir.storeConfiguration)
        try store.write { db in
            for index in 0..<20_000 {
                try db.sqlite.execute(sql: "INSERT INTO names (name) VALUES (?)", arguments: ["name-\(index)-" + String(repeating: "x", count: 200)])
            }
        }
        let health = try store.health(quickCheckBudget: .zero)
        #expect(health.quickCheck.completed == false)
        #expect(health.notes.contains { $0.contains("quick_check stopped") })
        #expect(try store.health(quickCheckBudget: .seconds(30)).quickCheck.completed)
    }

    /// Pages damaged under a running store (a failing disk): health's quick_check, which reads the file
    /// through a connection of its own, reports the store unhealthy.
    @Test func pagesDamagedUnderARunningStoreMakeHealthUnhealthy() throws {
        let dir = try TemporaryDirectory()
        let configuration = dir.storeConfiguration
        let store = try openCounterStore(configuration)
        try store.write { db in
            for index in 0..<2_000 {
                try db.sqlite.execute(sql: "INSERT INTO names (name) VALUES (?)", arguments: ["name-\(index)-" + String(repeating: "y", count: 100)])
            }
        }
        try store.checkpoint(.truncate)
        // Scribble over pages near the end (the names table and its index), keeping the schema page intact.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: configuration.databasePath.string))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size - 8 * 4096)
        try handle.write(contentsOf: Data((0..<(6 * 4096)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }))
        try handle.close()

        let health = try store.health()
        #expect(health.verdict == .unhealthy)
        #expect(!health.quickCheck.ok)
        #expect(health.reasons.contains { $0.contains("quick_check") })
    }
}
