import BurgStore
import BurgTestSupport
import Foundation
import Testing

@Suite struct StoreCrashTests {
    @Test func killingAWriterMidTransactionLosesNoAcknowledgedIncrement() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        let rounds = soak ? 300 : 50
        var lastAcked = 0
        for round in 0..<rounds {
            let writer = try startHelper(["store-writer-loop", "--data-dir", data])
            try writer.waitForLine { $0.hasPrefix("acked") }
            usleep(UInt32.random(in: 0...15_000))
            writer.signal(SIGKILL)
            #expect(try writer.wait() == 128 + SIGKILL)
            let acked = writer.lines.compactMap { line in
                line.hasPrefix("acked ") ? Int(line.dropFirst(6)) : nil
            }.max() ?? 0
            #expect(acked > lastAcked)
            lastAcked = acked

            // The first connection after the crash recovers the WAL.
            let store = try openCounterStore(dir.storeConfiguration)
            let (integrity, value, rows, maxLogged) = try store.read { db in
                (
                    try String.fetchAll(db.sqlite, sql: "PRAGMA integrity_check"),
                    try CounterSchema.value(db.sqlite),
                    try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM increments") ?? -1,
                    try Int.fetchOne(db.sqlite, sql: "SELECT MAX(value) FROM increments") ?? -1
                )
            }
            #expect(integrity == ["ok"], "round \(round)")
            #expect(value >= acked, "round \(round): acknowledged \(acked), found \(value)")
            #expect(rows == value && maxLogged == value, "round \(round): every increment 1...\(value) is logged once")
            if integrity != ["ok"] || value < acked { break }
        }
    }
}
