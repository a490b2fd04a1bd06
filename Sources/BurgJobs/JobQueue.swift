import BurgCore
import BurgStore
import Foundation
internal import GRDB

/// The durable queue in the store. Delivery is at least once: a job whose worker dies (its lease expires)
/// runs again, so handlers must be idempotent (write with a key the job owns, `INSERT … ON CONFLICT`,
/// or check for their own earlier effect first).
public struct JobQueue: Sendable {
    public let store: Store
    public let registry: JobRegistry
    public let clock: JobClock
    public var backoff = RetryBackoff()

    public init(store: Store, registry: JobRegistry, clock: JobClock = .system) {
        self.store = store
        self.registry = registry
        self.clock = clock
    }

    // MARK: Enqueue

    /// Enqueues in its own transaction; returns the job id (an existing one when deduplicated).
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func enqueue(_ request: JobRequest) throws -> Int64 {
        try store.write { db in try enqueue(request, in: db) }
    }

    /// Enqueues inside the caller's transaction: the job commits or rolls back with it.
    @discardableResult
    public func enqueue(_ request: JobRequest, in db: StoreTransaction) throws -> Int64 {
        guard let kind = registry.kind(named: request.kind) else {
            throw JobError(.unknownKind, "unknown job kind \"\(request.kind)\"; known kinds: \(registry.names.joined(separator: ", "))")
        }
        guard let data = request.args.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw JobError(.invalidArguments, "arguments of \(request.kind) must be a JSON object")
        }
        try kind.validate(arguments: request.args)
        guard request.delay >= .zero else { throw JobError(.invalidArguments, "a delay cannot be negative") }
        guard request.maxAttempts.map({ $0 >= 1 }) ?? true else { throw JobError(.invalidArguments, "maxAttempts must be at least 1") }
        guard !request.queue.isEmpty, request.queue.count <= 64 else { throw JobError(.invalidArguments, "a queue name has 1…64 characters") }
        let now = clock.now()
        if let key = request.uniqueKey {
            if let existing = try Int64.fetchOne(db.sqlite, sql: """
                SELECT id FROM _jobs WHERE kind = ? AND unique_key = ? AND (state IN ('available', 'running') OR created_at > ?)
                ORDER BY id DESC LIMIT 1
                """, arguments: [request.kind, key, now - request.uniqueWindow.seconds]) {
                return existing
            }
        }
        try db.sqlite.execute(sql: """
            INSERT INTO _jobs (kind, args, queue, priority, run_at, max_attempts, unique_key, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [request.kind, request.args, request.queue, request.priority, now + request.delay.seconds,
                             request.maxAttempts ?? kind.maxAttempts, request.uniqueKey, now])
        return db.sqlite.lastInsertedRowID
    }

    // MARK: Claiming and finishing (workers)

    /// Claims up to `limit` due jobs of `queues` for `worker` in one statement, leasing them for `lease`.
    func claim(worker: String, queues: [String], limit: Int, lease: Duration) throws -> [Job] {
        guard limit > 0 else { return [] }
        let now = clock.now()
        let placeholders = Array(repeating: "?", count: queues.count).joined(separator: ", ")
        return try store.write { db in
            try Row.fetchAll(db.sqlite, sql: """
                UPDATE _jobs SET state = 'running', attempt = attempt + 1, worker = ?, lease_until = ?, heartbeat_at = ?,
                    started_at = ?, error = NULL
                WHERE id IN (SELECT id FROM _jobs WHERE state = 'available' AND queue IN (\(placeholders)) AND run_at <= ?
                             ORDER BY priority DESC, run_at, id LIMIT ?)
                \(db.dialect.returning())
                """, arguments: StatementArguments([worker, now + lease.seconds, now, now] + queues + [now, limit] as [any DatabaseValueConvertible])
            ).map(Job.init(row:))
        }
    }

    /// What happened to one attempt.
    enum Outcome: Sendable {
        case succeeded(result: String?)
        case failed(error: String)
        case cancelled
    }

    /// Records many outcomes in one transaction (how a worker keeps up with thousands of short jobs).
    /// Only jobs still leased to `worker` are changed: a job whose lease expired and was handed to
    /// another worker is left to that one.
    func finish(_ outcomes: [(job: Job, outcome: Outcome)], worker: String, progress: [Int64: JobProgress] = [:]) throws {
        guard !outcomes.isEmpty else { return }
        let now = clock.now()
        let backoff = self.backoff
        try store.write { db in
            for (id, report) in progress {
                try db.sqlite.execute(sql: "UPDATE _jobs SET progress_done = ?, progress_total = ?, progress_message = ? WHERE id = ? AND worker = ?",
                    arguments: [report.done, report.total, report.message, id, worker])
            }
            for (job, outcome) in outcomes {
                switch outcome {
                case .succeeded(let result):
                    // The hot path of a busy worker: a cached statement, executed once per job.
                    try db.sqlite.cachedStatement(sql: """
                        UPDATE _jobs SET state = 'succeeded', result = ?, finished_at = ?, lease_until = NULL
                        WHERE id = ? AND worker = ? AND state = 'running'
                        """).execute(arguments: [result, now, job.id, worker])
                case .cancelled:
                    try db.sqlite.execute(sql: """
                        UPDATE _jobs SET state = 'cancelled', finished_at = ?, lease_until = NULL, error = 'cancelled'
                        WHERE id = ? AND worker = ? AND state = 'running'
                        """, arguments: [now, job.id, worker])
                case .failed(let error):
                    if job.attempt >= job.maxAttempts {
                        try db.sqlite.execute(sql: """
                            UPDATE _jobs SET state = 'discarded', error = ?, finished_at = ?, lease_until = NULL
                            WHERE id = ? AND worker = ? AND state = 'running'
                            """, arguments: [error, now, job.id, worker])
                    } else {
                        try db.sqlite.execute(sql: """
                            UPDATE _jobs SET state = 'available', error = ?, run_at = ?, lease_until = NULL, worker = NULL
                            WHERE id = ? AND worker = ? AND state = 'running'
                            """, arguments: [error, now + backoff.delay(afterAttempt: job.attempt), job.id, worker])
                    }
                }
            }
        }
    }

    /// Extends the leases of `ids` (still running on `worker`); returns the ids whose cancellation was requested.
    func heartbeat(_ ids: [Int64], worker: String, lease: Duration) throws -> [Int64] {
        guard !ids.isEmpty else { return [] }
        let now = clock.now()
        let list = ids.map(String.init).joined(separator: ",")  // integers only
        return try store.write { db in
            try db.sqlite.execute(sql: "UPDATE _jobs SET lease_until = ?, heartbeat_at = ? WHERE id IN (\(list)) AND worker = ? AND state = 'running'",
                arguments: [now + lease.seconds, now, worker])
            return try Int64.fetchAll(db.sqlite, sql: "SELECT id FROM _jobs WHERE id IN (\(list)) AND cancel_requested = 1")
        }
    }

    /// Progress of a running job (throttled by the caller).
    func report(_ id: Int64, done: Int, total: Int?, message: String?) throws {
        try store.write { db in
            try db.sqlite.execute(sql: "UPDATE _jobs SET progress_done = ?, progress_total = ?, progress_message = ? WHERE id = ? AND state = 'running'",
                arguments: [done, total, message, id])
        }
    }

    /// Returns jobs whose lease expired (their worker died or hung) to `available`, counting the
    /// attempt; a job out of attempts is discarded. Returns how many were rescued.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func rescueExpired() throws -> Int {
        let now = clock.now()
        return try store.write { db in
            try db.sqlite.execute(sql: """
                UPDATE _jobs SET state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'available' END,
                    finished_at = CASE WHEN attempt >= max_attempts THEN ? ELSE NULL END,
                    error = 'lease expired: the worker stopped heartbeating (crashed or hung)', worker = NULL, lease_until = NULL
                WHERE state = 'running' AND lease_until < ?
                """, arguments: [now, now])
            return db.sqlite.changesCount
        }
    }

    // MARK: Operators

    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func get(_ id: Int64) throws -> Job {
        guard let job = try store.read({ db in try Row.fetchOne(db.sqlite, sql: "SELECT * FROM _jobs WHERE id = ?", arguments: [id]) }).map(Job.init(row:)) else {
            throw JobError(.notFound, "no job \(id)")
        }
        return job
    }

    /// Cancels a queued job at once; asks a running one to stop (its handler sees task cancellation at
    /// the next heartbeat). Finished jobs cannot be cancelled.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func cancel(_ id: Int64) throws -> Job {
        let now = clock.now()
        try store.write { db in
            guard let state = try String.fetchOne(db.sqlite, sql: "SELECT state FROM _jobs WHERE id = ?", arguments: [id]) else {
                throw JobError(.notFound, "no job \(id)")
            }
            switch JobState(rawValue: state) {
            case .available:
                try db.sqlite.execute(sql: "UPDATE _jobs SET state = 'cancelled', finished_at = ?, error = 'cancelled before it ran' WHERE id = ?", arguments: [now, id])
            case .running:
                try db.sqlite.execute(sql: "UPDATE _jobs SET cancel_requested = 1 WHERE id = ?", arguments: [id])
            default:
                throw JobError(.invalidState, "job \(id) is \(state); only queued or running jobs can be cancelled")
            }
        }
        return try get(id)
    }

    /// Runs a failed, discarded or cancelled job again (a fresh set of attempts).
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func retry(_ id: Int64) throws -> Job {
        let now = clock.now()
        try store.write { db in
            guard let state = try String.fetchOne(db.sqlite, sql: "SELECT state FROM _jobs WHERE id = ?", arguments: [id]) else {
                throw JobError(.notFound, "no job \(id)")
            }
            guard ["failed", "discarded", "cancelled"].contains(state) else {
                throw JobError(.invalidState, "job \(id) is \(state); only failed, discarded or cancelled jobs can be retried")
            }
            try db.sqlite.execute(sql: """
                UPDATE _jobs SET state = 'available', attempt = 0, run_at = ?, cancel_requested = 0, finished_at = NULL,
                    worker = NULL, lease_until = NULL WHERE id = ?
                """, arguments: [now, id])
        }
        return try get(id)
    }

    /// Jobs matching `state`/`kind`/`queue`, newest first, with the exact total.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func list(state: JobState? = nil, kind: String? = nil, queue: String? = nil, page: Int = 1, perPage: Int = 30) throws -> (items: [Job], totalItems: Int) {
        // Bounded so that the offset below cannot overflow (a page number comes from outside).
        guard (1...Int(Int32.max)).contains(page), (1...500).contains(perPage) else {
            throw JobError(.invalidArguments, "page must be from 1 to \(Int32.max) and perPage from 1 to 500")
        }
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let state { conditions.append("state = ?"); arguments.append(state.rawValue) }
        if let kind { conditions.append("kind = ?"); arguments.append(kind) }
        if let queue { conditions.append("queue = ?"); arguments.append(queue) }
        let condition = conditions.isEmpty ? "1" : conditions.joined(separator: " AND ")
        return try store.read { db in
            let items = try Row.fetchAll(db.sqlite, sql: "SELECT * FROM _jobs WHERE \(condition) ORDER BY id DESC LIMIT ? OFFSET ?",
                arguments: StatementArguments(arguments + [perPage, (page - 1) * perPage])).map(Job.init(row:))
            let total = try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM _jobs WHERE \(condition)", arguments: StatementArguments(arguments)) ?? 0
            return (items, total)
        }
    }
}

extension JobQueue {
    /// Gives running jobs back (a draining worker's unfinished jobs): available again at once, the
    /// interrupted attempt not counted.
    func release(_ ids: [Int64], worker: String) throws {
        guard !ids.isEmpty else { return }
        let list = ids.map(String.init).joined(separator: ",")
        try store.write { db in
            try db.sqlite.execute(sql: """
                UPDATE _jobs SET state = 'available', attempt = max(0, attempt - 1), worker = NULL, lease_until = NULL,
                    error = 'released by a stopping worker' WHERE id IN (\(list)) AND worker = ? AND state = 'running'
                """, arguments: [worker])
        }
    }
}
