import BurgStore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing
import GRDB

@Suite struct MaintenanceTests {
    @Test func vacuumIntoWritesACompleteCopyAndNeverOverwrites() throws {
        let dir = try TemporaryDirectory()
        let store = try openCounterStore(dir.storeConfiguration)
        for _ in 0..<50 { _ = try store.write { db in try CounterSchema.increment(db.sqlite, pid: 1, payloadBytes: 1000) } }
        let target = dir.path("compact.db")
        try store.vacuum(into: target)
        let copy = try DatabaseQueue(path: target.string)
        #expect(try copy.read { try CounterSchema.value($0) } == 50)
        #expect(try copy.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") } == ["ok"])
        try copy.close()

        let before = fileBytes(target)
        let error = #expect(throws: StoreError.self) { try store.vacuum(into: target) }
        #expect(error?.description.contains("already exists") == true)
        #expect(fileBytes(target) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path.string).filter { $0.contains("burg-tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func vacuumInPlaceShrinksAFileWithFreePagesAndKeepsTheData() throws {
        let dir = try TemporaryDirectory()
        let store = try openCounterStore(dir.storeConfiguration)
        for _ in 0..<200 { _ = try store.write { db in try CounterSchema.increment(db.sqlite, pid: 1, payloadBytes: 8000) } }
        try store.write { db in try db.execute(sql: "UPDATE increments SET payload = NULL") }
        try store.checkpoint(.truncate)
        let before = try store.info()
        #expect(before.freelistPages > 100)
        try store.vacuum()
        let after = try store.info()
        #expect(after.databaseBytes < before.databaseBytes / 2)
        #expect(after.walBytes == 0)
        #expect(try store.read { try CounterSchema.value($0.sqlite) } == 200)
    }

    /// `serve`'s setting: commits never checkpoint (the WAL keeps every frame until a checkpoint), and a
    /// PASSIVE checkpoint copies them while a write transaction of the same process is open.
    @Test func withoutAutocheckpointsPassiveCheckpointsRunBesideAnOpenWrite() async throws {
        let dir = try TemporaryDirectory()
        var configuration = dir.storeConfiguration
        configuration.autoCheckpointPages = 0
        let store = try openCounterStore(configuration)
        for _ in 0..<300 { _ = try await store.write { db in try CounterSchema.increment(db.sqlite, pid: 1, payloadBytes: 8000) } }
        let walPages = try await store.info().walBytes / 4096
        #expect(walPages > 1000, "commits checkpointed although autocheckpoint is off (WAL: \(walPages) pages)")

        // Hold the writer for a second in another task; the checkpoint must not wait for it.
        let holding = Task.detached { try await store.write { db in _ = try CounterSchema.increment(db.sqlite, pid: 2, payloadBytes: 10); usleep(1_000_000) } }
        try await Task.sleep(for: .milliseconds(100))
        // The blocking call itself, timed without a hop to another thread (a nested function is synchronous).
        func checkpoint() throws -> CheckpointResult { try store.checkpoint(.passive) }
        let start = ContinuousClock.now
        let result = try checkpoint()
        #expect(ContinuousClock.now - start < .milliseconds(700))
        #expect(result.walFrames > 1000 && result.checkpointedFrames == result.walFrames, "\(result)")
        _ = try await holding.value
        #expect(try await store.read { try CounterSchema.value($0.sqlite) } == 301)
    }

    @Test func theMaintenanceServiceCheckpointsUntilGracefulShutdown() async throws {
        let dir = try TemporaryDirectory()
        var configuration = dir.storeConfiguration
        configuration.walSizeLimit = 64 << 10
        let store = try openCounterStore(configuration)
        for _ in 0..<100 { _ = try await store.write { db in try CounterSchema.increment(db.sqlite, pid: 1, payloadBytes: 2000) } }
        var maintenanceConfiguration = StoreMaintenance.Configuration()
        maintenanceConfiguration.checkpointInterval = .milliseconds(50)
        let service = StoreMaintenance(store: store, configuration: maintenanceConfiguration)
        let task = Task { try await service.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        while store.statistics.lastCheckpoint?.mode != .truncate && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        task.cancel()
        _ = try? await task.value
        #expect(store.statistics.lastCheckpoint?.mode == .truncate)
        #expect(store.statistics.lastCheckpoint?.walBytesAfter == 0)
    }
}
