import BurgBackup
import BurgJobs
import BurgStore
import Foundation

/// Serves `/api/health` cheaply: the full check (the store's quick_check, WAL and disk; the job queue
/// and its workers; the backups) runs at most once per `interval`, however many probes arrive, and
/// concurrent probes share one run. Between full checks a probe still proves the database answers by
/// reading its schema version, so a store that stopped working is reported at once rather than when
/// the cached verdict expires.
actor HealthMonitor {
    struct Report: Sendable {
        var store: StoreHealth
        var jobs: JobsHealth?
        var backups: BackupHealth?
        var checkedAt: Date

        /// The worst of the checks: the store's, the queue's and the backups'.
        var verdict: StoreHealth.Verdict {
            let others = [jobs?.status.rawValue, backups?.status.rawValue].compactMap { $0.flatMap(StoreHealth.Verdict.init(rawValue:)) }
            return ([store.verdict] + others).max() ?? store.verdict
        }
    }

    /// A verified backup older than this makes the backups check `degraded` (daily backups plus slack).
    static let backupMaxAge: Duration = .seconds(26 * 3600)

    private let store: Store
    private let interval: Duration
    private let workers: (@Sendable () -> WorkerSupervisor.Status)?
    private var last: (report: Report, at: ContinuousClock.Instant)?
    private var running: Task<Report, any Error>?

    init(store: Store, interval: Duration, workers: (@Sendable () -> WorkerSupervisor.Status)?) {
        self.store = store
        self.interval = interval
        self.workers = workers
    }

    /// The latest full report, refreshed first when older than the interval. Throws when the database
    /// cannot be read at all.
    func report() async throws -> Report {
        let store = self.store
        if let last, ContinuousClock.now - last.at < interval {
            try await BlockingWork.run { _ = try store.schemaVersion() }
            return last.report
        }
        if let running { return try await running.value }
        let supervisor = workers?()
        let task = Task {
            try await BlockingWork.run {
                let queue = JobQueue(store: store, registry: JobRegistry())
                return Report(
                    store: try store.health(quickCheckBudget: .milliseconds(200)),
                    jobs: (try? queue.stats()).map { JobsHealth.evaluate($0, supervisor: supervisor) },
                    backups: try? BackupHistory(store: store).health(maxAge: Self.backupMaxAge),
                    checkedAt: Date())
            }
        }
        running = task
        defer { running = nil }
        let report = try await task.value
        last = (report, .now)
        return report
    }
}
