import BurgStore
import BurgTestSupport
import Logging
import Synchronization
import Testing

@Suite struct SlowReadTests {
    @Test func aReadTransactionThatLastsTooLongIsLoggedWithItsStatement() throws {
        let dir = try TemporaryDirectory()
        var configuration = dir.storeConfiguration
        configuration.slowReadThreshold = .milliseconds(20)
        let captured = CapturedLog()
        let store = try Store(
            configuration, migrations: CounterSchema.migrations,
            logger: Logger(label: "test") { _ in captured })
        let slowSQL = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT COUNT(*) FROM n"
        let count = try store.read { db in try Int.fetchOne(db.sqlite, sql: slowSQL) }
        #expect(count == 3_000_000)
        _ = try store.read { db in try CounterSchema.value(db.sqlite) }  // fast: not logged

        let warnings = captured.entries.filter { $0.level == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.contains("slow read transaction") == true)
        #expect(warnings.first?.metadata["statement"]?.contains("WITH RECURSIVE") == true, "\(warnings)")
        #expect(store.statistics.longestRead >= .milliseconds(20))
    }
}

/// A log handler that keeps what it is given.
final class CapturedLog: LogHandler, Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let state = Mutex<[Entry]>([])
    var entries: [Entry] { state.withLock { $0 } }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let entry = Entry(
            level: event.level, message: "\(event.message)",
            metadata: (event.metadata ?? [:]).mapValues { "\($0)" })
        state.withLock { $0.append(entry) }
    }
}
