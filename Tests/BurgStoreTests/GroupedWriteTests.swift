import BurgStore
import BurgTestSupport
import Dispatch
import Foundation
import Synchronization
import Testing
import GRDB

@Suite struct GroupedWriteTests {
    struct Refused: Error, Equatable {
        let index: Int
    }

    /// 16 threads, 400 writes, each holding the transaction briefly so that callers queue up. Every
    /// tenth write changes the counter and then throws, every 25th breaks a UNIQUE constraint: each
    /// caller gets its own outcome, and only the successful writes' changes are committed.
    @Test func concurrentWritesShareTransactionsAndEachFailureRollsBackOnlyItself() throws {
        let dir = try TemporaryDirectory()
        let store = try openCounterStore(dir.storeConfiguration)
        try store.write { db in try db.execute(sql: "INSERT INTO names (name) VALUES ('taken')") }
        let before = store.statistics
        let total = 400
        let outcomes = Outcomes()
        // Real threads: `concurrentPerform` runs only as many as there are cores (two here), and one
        // leader with one caller queued behind it could never form a group larger than one.
        onThreads(16, total) { index in
            let outcome: String
            do {
                let value = try store.groupedWrite { db -> Int in
                    let value = try CounterSchema.increment(db.sqlite, pid: Int32(index))
                    usleep(300)
                    if index % 10 == 0 { throw Refused(index: index) }
                    try db.sqlite.execute(sql: "INSERT INTO names (name) VALUES (?)", arguments: [index % 25 == 5 ? "taken" : "n\(index)"])
                    return value
                }
                outcome = "ok \(value)"
            } catch let error as Refused {
                outcome = error.index == index ? "refused" : "someone else's error"
            } catch let error as StoreError {
                outcome = "store \(error.code)"
            } catch {
                outcome = "other \(error)"
            }
            outcomes.values.withLock { $0[index] = outcome }
        }
        let all = outcomes.values.withLock { $0 }
        let refused = (0..<total).filter { $0 % 10 == 0 }
        let duplicates = (0..<total).filter { $0 % 25 == 5 && $0 % 10 != 0 }
        let succeeded = total - refused.count - duplicates.count
        #expect(refused.allSatisfy { all[$0] == "refused" })
        #expect(duplicates.allSatisfy { all[$0] == "store constraint" })
        #expect(all.values.filter { $0.hasPrefix("ok ") }.count == succeeded)
        // Each successful caller saw a distinct counter value: the bodies ran one after another.
        #expect(Set(all.values.filter { $0.hasPrefix("ok ") }).count == succeeded)

        let (value, increments, names) = try store.read { db in
            (try CounterSchema.value(db.sqlite), try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM increments") ?? 0,
             try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM names") ?? 0)
        }
        #expect(value == succeeded)
        #expect(increments == succeeded)
        #expect(names == succeeded + 1)
        let statistics = store.statistics
        #expect(statistics.writes - before.writes == succeeded)
        #expect(statistics.failedWrites - before.failedWrites == refused.count + duplicates.count)
        // Fewer transactions than writes: callers that queued were committed together.
        let transactions = statistics.commitLatency.count - before.commitLatency.count
        #expect(transactions < succeeded, "\(transactions) transactions for \(succeeded) writes")
    }

    final class Outcomes: Sendable {
        let values = Mutex<[Int: String]>([:])
    }

    /// Runs `body` for 0..<total on `threads` threads of their own (index i on thread i % threads) and
    /// returns when all are done.
    func onThreads(_ threads: Int, _ total: Int, _ body: @escaping @Sendable (Int) -> Void) {
        startThreads(threads, 0..<total, body).wait()
    }

    /// Starts `body` for `indices` on `threads` threads of their own; the group is left when all are done.
    func startThreads(_ threads: Int, _ indices: Range<Int>, _ body: @escaping @Sendable (Int) -> Void) -> DispatchGroup {
        let done = DispatchGroup()
        for thread in 0..<threads {
            done.enter()
            Thread.detachNewThread {
                for index in stride(from: indices.lowerBound + thread, to: indices.upperBound, by: threads) { body(index) }
                done.leave()
            }
        }
        return done
    }

    /// Async callers (request handlers, suspended while they wait) and blocking callers at once: 300
    /// writes from tasks and 100 from 8 threads. The lead passes between the store's group queue and
    /// blocking callers; every caller gets its own outcome and every success is committed exactly once.
    @Test(.timeLimit(.minutes(1))) func asyncAndBlockingWritesShareGroupsAndEachGetsItsOwnOutcome() async throws {
        let dir = try TemporaryDirectory()
        let store = try openCounterStore(dir.storeConfiguration)
        let before = store.statistics
        let outcomes = Outcomes()
        @Sendable func write(_ db: Database, _ index: Int) throws -> Int {
            let value = try CounterSchema.increment(db, pid: Int32(index))
            usleep(200)
            if index % 10 == 0 { throw Refused(index: index) }
            return value
        }
        @Sendable func outcome(_ result: () throws -> Int, _ index: Int) -> String {
            do {
                return "ok \(try result())"
            } catch let error as Refused {
                return error.index == index ? "refused" : "someone else's error"
            } catch {
                return "other \(error)"
            }
        }
        let threads = startThreads(8, 300..<400) { index in
            let result = outcome({ try store.groupedWrite { db in try write(db.sqlite, index) } }, index)
            outcomes.values.withLock { $0[index] = result }
        }
        await withTaskGroup(of: (Int, String).self) { group in
            for index in 0..<300 {
                group.addTask {
                    do {
                        let value = try await store.groupedWrite { db in try write(db.sqlite, index) }
                        return (index, outcome({ value }, index))
                    } catch {
                        return (index, outcome({ throw error }, index))
                    }
                }
            }
            for await (index, result) in group { outcomes.values.withLock { $0[index] = result } }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            threads.notify(queue: .global()) { continuation.resume() }
        }
        let all = outcomes.values.withLock { $0 }
        let total = 400
        let refused = (0..<total).filter { $0 % 10 == 0 }
        let succeeded = total - refused.count
        #expect(all.count == total)
        #expect(refused.allSatisfy { all[$0] == "refused" })
        let values = all.values.filter { $0.hasPrefix("ok ") }
        #expect(values.count == succeeded && Set(values).count == succeeded, "\(all.values.filter { !$0.hasPrefix("ok ") && $0 != "refused" })")
        #expect(try await store.read { try CounterSchema.value($0.sqlite) } == succeeded)
        let statistics = store.statistics
        #expect(statistics.writes - before.writes == succeeded)
        let transactions = statistics.commitLatency.count - before.commitLatency.count
        #expect(transactions < succeeded, "\(transactions) transactions for \(succeeded) writes")
    }

    /// Another connection holds the write lock for a while: the group waits and retries as a whole,
    /// then commits; nothing runs twice into the committed result.
    @Test func aGroupWaitsForAnotherConnectionsWriteLockThenCommits() throws {
        let dir = try TemporaryDirectory()
        var configuration = dir.storeConfiguration
        configuration.busyTimeout = .milliseconds(20)
        let store = try openCounterStore(configuration)
        var blockerConfiguration = Configuration()
        blockerConfiguration.allowsUnsafeTransactions = true  // the transaction spans two accesses on purpose
        let blocker = try DatabaseQueue(path: configuration.databasePath.string, configuration: blockerConfiguration)
        try blocker.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            try? blocker.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        }
        let started = ContinuousClock.now
        let values = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            if let value = try? store.groupedWrite({ db in try CounterSchema.increment(db.sqlite, pid: Int32(index)) }) {
                values.withLock { $0.append(value) }
            }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(250))
        #expect(values.withLock { $0.sorted() } == Array(1...8))
        #expect(try store.read { try CounterSchema.value($0.sqlite) } == 8)
        #expect(store.statistics.retries + store.statistics.busyWaits > 0)
    }
}
