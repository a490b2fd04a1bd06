import BurgCore
import Foundation
internal import GRDB

/// Counts by state and kind, recent throughput and queue-to-start latency.
public struct JobStats: Sendable, Codable, Equatable {
    public var byState: [String: Int]
    public var byKind: [String: [String: Int]]
    /// Jobs finished per second over the last minute.
    public var throughputPerSecond: Double
    /// From due (`run_at`) to started, over the last 10,000 started jobs, in milliseconds.
    public var queueToStartP50ms: Double
    public var queueToStartP99ms: Double
    /// Seconds the oldest due, waiting job has waited (0 when none).
    public var oldestWaitingSeconds: Double
    public var failedLastHour: Int

    public init(byState: [String: Int], byKind: [String: [String: Int]], throughputPerSecond: Double, queueToStartP50ms: Double,
                queueToStartP99ms: Double, oldestWaitingSeconds: Double, failedLastHour: Int) {
        self.byState = byState
        self.byKind = byKind
        self.throughputPerSecond = throughputPerSecond
        self.queueToStartP50ms = queueToStartP50ms
        self.queueToStartP99ms = queueToStartP99ms
        self.oldestWaitingSeconds = oldestWaitingSeconds
        self.failedLastHour = failedLastHour
    }
}

extension JobQueue {
    public func stats() throws -> JobStats {
        let now = clock.now()
        return try store.read { db in
            var byState: [String: Int] = [:]
            var byKind: [String: [String: Int]] = [:]
            for row in try Row.fetchAll(db.sqlite, sql: "SELECT kind, state, COUNT(*) AS n FROM _jobs GROUP BY kind, state") {
                let state: String = row["state"], kind: String = row["kind"], count: Int = row["n"]
                byState[state, default: 0] += count
                byKind[kind, default: [:]][state] = count
            }
            let finished = try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM _jobs WHERE state = 'succeeded' AND finished_at > ?", arguments: [now - 60]) ?? 0
            let waits = try Double.fetchAll(db.sqlite, sql: """
                SELECT (started_at - max(run_at, created_at)) * 1000 FROM _jobs WHERE started_at IS NOT NULL ORDER BY id DESC LIMIT 10000
                """).sorted()
            func percentile(_ p: Double) -> Double {
                waits.isEmpty ? 0 : waits[min(waits.count - 1, Int((Double(waits.count) * p).rounded(.up)) - 1)]
            }
            let oldest = try Double.fetchOne(db.sqlite, sql: "SELECT min(run_at) FROM _jobs WHERE state = 'available' AND run_at <= ?", arguments: [now])
            let failed = try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM _jobs WHERE state IN ('failed', 'discarded') AND finished_at > ?", arguments: [now - 3600]) ?? 0
            return JobStats(byState: byState, byKind: byKind, throughputPerSecond: Double(finished) / 60,
                queueToStartP50ms: percentile(0.5), queueToStartP99ms: percentile(0.99),
                oldestWaitingSeconds: oldest.map { max(0, now - $0) } ?? 0, failedLastHour: failed)
        }
    }
}

/// The queue's contribution to `/api/health`.
public struct JobsHealth: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case healthy, degraded, unhealthy }
    public var status: Status
    public var oldestWaitingSeconds: Double
    public var failedLastHour: Int
    public var workersAlive: Int?
    public var workersWanted: Int?
    public var problem: String?

    /// Degraded when a due job has waited over `maxWait` or workers are missing; unhealthy when the
    /// supervisor gave up on a crash-looping worker.
    public static func evaluate(_ stats: JobStats, supervisor: WorkerSupervisor.Status?, maxWait: Duration = .seconds(300)) -> JobsHealth {
        var health = JobsHealth(status: .healthy, oldestWaitingSeconds: stats.oldestWaitingSeconds, failedLastHour: stats.failedLastHour,
            workersAlive: supervisor?.alive, workersWanted: supervisor?.wanted, problem: nil)
        if let supervisor, supervisor.gaveUp {
            health.status = .unhealthy
            health.problem = "workers crash-loop: \(supervisor.lastExit ?? "") — restarting stopped"
        } else if let supervisor, supervisor.alive < supervisor.wanted {
            health.status = .degraded
            health.problem = "\(supervisor.wanted - supervisor.alive) worker(s) down, restarting (backoff \(formatDuration(supervisor.currentBackoff)))"
        } else if stats.oldestWaitingSeconds > maxWait.seconds {
            health.status = .degraded
            health.problem = "a due job has waited \(Int(stats.oldestWaitingSeconds)) s"
        }
        return health
    }
}
