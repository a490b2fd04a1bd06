import Histogram
import Synchronization

/// What one ``Store`` (in this process) has done since it was opened: one consistent snapshot, cheap to
/// take. Counters never decrease.
public struct StoreStatistics: Sendable, Equatable, Codable {
    /// Read transactions completed.
    public var reads: Int = 0
    /// Writes committed (each ``Store/groupedWrite(_:)`` counts, though a group shares one transaction).
    public var writes: Int = 0
    /// Writes that reached their caller as errors (constraint, I/O, retry deadline passed...).
    public var failedWrites: Int = 0
    /// Write closures run again after SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT or SQLITE_LOCKED.
    public var retries: Int = 0
    /// Retries by the SQLite extended result code that caused them (5 SQLITE_BUSY, 517 SQLITE_BUSY_SNAPSHOT,
    /// 6 SQLITE_LOCKED...).
    public var retriesByCode: [Int32: Int] = [:]
    /// Times the writer found the database locked by another connection and waited in its busy handler.
    public var busyWaits: Int = 0
    /// Time from asking for the write lock (`BEGIN IMMEDIATE`) to holding it, per committed write.
    public var lockWait: Percentiles = Percentiles()
    /// Time `COMMIT` took, per committed write.
    public var commitLatency: Percentiles = Percentiles()
    /// Longest write transaction (from holding the lock to the end of COMMIT) and longest read transaction.
    public var longestWrite: Duration = .zero
    public var longestRead: Duration = .zero
    /// Checkpoints run by this store, and the last one's result.
    public var checkpoints: Int = 0
    public var lastCheckpoint: CheckpointResult?

    public init() {}

    /// p50, p99 and maximum of a latency, from an HdrHistogram with microsecond resolution.
    public struct Percentiles: Sendable, Equatable, Codable {
        public var count: Int = 0
        public var p50: Duration = .zero
        public var p99: Duration = .zero
        public var max: Duration = .zero
        public init() {}
    }
}

/// The outcome of one WAL checkpoint.
public struct CheckpointResult: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable { case passive, full, restart, truncate }
    public var mode: Mode
    /// Frames in the WAL when the checkpoint ran, and how many of them were copied into the database.
    /// Fewer copied than present means a reader holds an older snapshot.
    public var walFrames: Int
    public var checkpointedFrames: Int
    /// True when SQLite could not complete the checkpoint (a reader or writer was in the way).
    public var busy: Bool
    /// Size of the WAL file after the checkpoint, in bytes.
    public var walBytesAfter: Int64
    /// Milliseconds since 1970 when it ran.
    public var atMilliseconds: Int64

    public var isComplete: Bool { !busy && checkpointedFrames >= walFrames }
}

/// Collects the figures behind ``StoreStatistics``. One short critical section per transaction.
final class StatisticsRecorder: Sendable {
    private struct State {
        var statistics = StoreStatistics()
        var lockWait = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
        var commit = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
    }

    private let state = Mutex(State())

    func recordRead(duration: Duration) {
        state.withLock { state in
            state.statistics.reads += 1
            if duration > state.statistics.longestRead { state.statistics.longestRead = duration }
        }
    }

    /// One committed transaction; `writes`: how many writes it committed (a group commits several).
    func recordWrite(lockWait: Duration, transaction: Duration, commit: Duration, writes: Int = 1) {
        state.withLock { state in
            state.statistics.writes += writes
            _ = state.lockWait.record(UInt64(clamping: lockWait.nanoseconds / 1000))
            _ = state.commit.record(UInt64(clamping: commit.nanoseconds / 1000))
            if transaction > state.statistics.longestWrite { state.statistics.longestWrite = transaction }
        }
    }

    func recordRetry(code: Int32) {
        state.withLock { state in
            state.statistics.retries += 1
            state.statistics.retriesByCode[code, default: 0] += 1
        }
    }
    func recordFailedWrite() { state.withLock { $0.statistics.failedWrites += 1 } }

    func recordCheckpoint(_ result: CheckpointResult) {
        state.withLock { state in
            state.statistics.checkpoints += 1
            state.statistics.lastCheckpoint = result
        }
    }

    func snapshot(busyWaits: Int) -> StoreStatistics {
        state.withLock { state in
            var result = state.statistics
            result.busyWaits = busyWaits
            result.lockWait = Self.percentiles(state.lockWait)
            result.commitLatency = Self.percentiles(state.commit)
            return result
        }
    }

    private static func percentiles(_ histogram: Histogram<UInt64>) -> StoreStatistics.Percentiles {
        var result = StoreStatistics.Percentiles()
        result.count = Int(histogram.totalCount)
        guard result.count > 0 else { return result }
        result.p50 = .microseconds(Int64(clamping: histogram.valueAtPercentile(50)))
        result.p99 = .microseconds(Int64(clamping: histogram.valueAtPercentile(99)))
        result.max = .microseconds(Int64(clamping: histogram.max))
        return result
    }
}
