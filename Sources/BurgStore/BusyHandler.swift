import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The writer connection's SQLite busy handler: while another connection holds the lock, sleep and try
/// again until ``StoreConfiguration/busyTimeout`` has passed, counting the waits for the statistics.
///
/// The sleeps start like `sqlite3_busy_timeout`'s (1, 2, 5, 10 ms) but stop growing at 10 ms, where
/// SQLite's go on to 100 ms. Both choices were measured (docs/PERFORMANCE.md), with 8 writer processes on
/// 2 cores: sleeps of a few tens of microseconds cost a third of the throughput (waiters that wake that
/// often take the CPU from the process holding the lock); sleeps growing to 100 ms let an unlucky
/// writer lose the race for over a second (p99 1-1.7 s in read-modify-write), capped at 10 ms ~20-30 ms.
final class BusyHandler: Sendable {
    private static let delaysMilliseconds = [1, 2, 5, 10]

    private let timeoutMilliseconds: Int
    private let waits = Atomic<Int>(0)

    init(timeout: Duration) {
        timeoutMilliseconds = Int(timeout.nanoseconds / 1_000_000)
    }

    /// Lock waits so far.
    var busyWaits: Int { waits.load(ordering: .relaxed) }

    /// SQLite's callback: `tries` counts calls for this lock wait, from 0. Returns false to give up
    /// (the statement then fails with SQLITE_BUSY and the store's retry takes over).
    func shouldRetry(tries: Int) -> Bool {
        if tries == 0 { waits.add(1, ordering: .relaxed) }
        let delays = Self.delaysMilliseconds
        let index = min(tries, delays.count - 1)
        // Time slept so far, as SQLite's own handler reckons it.
        let slept = tries < delays.count
            ? delays[..<index].reduce(0, +)
            : delays.reduce(0, +) + (tries - delays.count) * delays[delays.count - 1]
        var delay = delays[index]
        if slept + delay > timeoutMilliseconds {
            delay = timeoutMilliseconds - slept
            if delay <= 0 { return false }
        }
        usleep(UInt32(delay * 1000))
        return true
    }
}
