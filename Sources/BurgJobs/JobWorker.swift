import BurgCore
import BurgStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs jobs: claims due jobs in batches, runs up to `concurrency` handlers at once, heartbeats their
/// leases, records outcomes in batches, rescues jobs of dead workers. A graceful shutdown (SIGTERM) stops
/// claiming, lets running jobs finish for up to `drainTimeout`, then releases the rest for other workers.
public final class JobWorker: Service, Sendable {
    public struct Configuration: Sendable {
        public var concurrency = 16
        public var queues = ["default"]
        public var lease: Duration = .seconds(30)
        public var heartbeatInterval: Duration = .seconds(5)
        public var rescueInterval: Duration = .seconds(5)
        public var drainTimeout: Duration = .seconds(30)
        /// An idle worker wakes on any commit to the database (inotify on Linux) and at least this often
        /// (delayed jobs becoming due, retries, timeouts).
        public var claimInterval: Duration = .milliseconds(250)
        public init() {}
    }

    public let queue: JobQueue
    public let configuration: Configuration
    public let workerID: String
    let logger: Logger
    private let outcomes = Mutex<[(job: Job, outcome: JobQueue.Outcome, progress: JobProgress?)]>([])
    private let cancelRequested = Mutex<Set<Int64>>([])
    private let timedOut = Mutex<Set<Int64>>([])

    public init(queue: JobQueue, configuration: Configuration = Configuration(), logger: Logger = Logger(label: "burg.worker")) {
        self.queue = queue
        self.configuration = configuration
        self.workerID = "\(ProcessInfo.processInfo.hostName):\(getpid())"
        self.logger = logger
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await loop()
        } onGracefulShutdown: {
            self.logger.info("draining", metadata: ["worker": "\(self.workerID)"])
        }
    }

    private func loop() async throws {
        var running: [Int64: (task: Task<Void, Never>, deadline: ContinuousClock.Instant)] = [:]
        let changes = DatabaseChangeSignal(databasePath: queue.store.path.string)

        var lastHeartbeat = ContinuousClock.now
        var lastRescue = ContinuousClock.now - .seconds(3600)
        var drainStarted: ContinuousClock.Instant?
        logger.info("worker started", metadata: ["worker": "\(workerID)", "concurrency": "\(configuration.concurrency)", "queues": "\(configuration.queues)"])
        while true {
            // 1. Outcomes of finished handlers, in one transaction.
            let finished = outcomes.withLock { buffer in defer { buffer.removeAll() }; return buffer }
            if !finished.isEmpty {
                var reports: [Int64: JobProgress] = [:]
                for item in finished { if let progress = item.progress { reports[item.job.id] = progress } }
                try? queue.finish(finished.map { ($0.job, $0.outcome) }, worker: workerID, progress: reports)
                for item in finished { running[item.job.id] = nil }
            }
            let now = ContinuousClock.now
            // 2. Draining on shutdown (or cancellation, when another service of the group failed).
            if Task.isShuttingDownGracefully || Task.isCancelled {
                if drainStarted == nil { drainStarted = now }
                if running.isEmpty { break }
                if now - drainStarted! > configuration.drainTimeout {
                    try? queue.release(Array(running.keys), worker: workerID)
                    logger.warning("drain timeout: released \(running.count) running job(s) to other workers")
                    for entry in running.values { entry.task.cancel() }
                    break
                }
            }
            // 3. Heartbeat and cancellation requests.
            if now - lastHeartbeat >= configuration.heartbeatInterval, !running.isEmpty {
                lastHeartbeat = now
                if let cancelled = try? queue.heartbeat(Array(running.keys), worker: workerID, lease: configuration.lease) {
                    cancelRequested.withLock { $0.formUnion(cancelled) }
                    for id in cancelled { running[id]?.task.cancel() }
                }
            }
            if now - lastRescue >= configuration.rescueInterval {
                lastRescue = now
                if let rescued = try? await queue.rescueExpired(), rescued > 0 { logger.notice("rescued \(rescued) job(s) with expired leases") }
            }
            // 4. Attempts over their kind's timeout are cancelled (and fail as timed out).
            for (id, entry) in running where entry.deadline < now {
                timedOut.withLock { _ = $0.insert(id) }
                entry.task.cancel()
            }
            // 5. Claim when there is room.
            let room = configuration.concurrency - running.count
            var claimed = 0
            if drainStarted == nil, room > 0 {
                let jobs = (try? queue.claim(worker: workerID, queues: configuration.queues, limit: room, lease: configuration.lease)) ?? []
                claimed = jobs.count
                for job in jobs {
                    let timeout = queue.registry.kind(named: job.kind)?.timeout ?? .seconds(3600)
                    running[job.id] = (start(job), now + timeout)
                }
            }
            if finished.isEmpty, claimed == 0 {
                // Nothing happened: sleep until a commit somewhere, or a short while when handlers run
                // (their outcomes), or the claim interval.
                let wait = running.isEmpty ? configuration.claimInterval : min(configuration.claimInterval, .milliseconds(5))
                await changes.wait(timeout: wait)
            } else {
                await Task.yield()
            }
        }
        logger.info("worker stopped", metadata: ["worker": "\(workerID)"])
    }

    private func start(_ job: Job) -> Task<Void, Never> {
        let queue = self.queue
        return Task {
            let outcome: JobQueue.Outcome
            var progress: JobProgress?
            if let kind = queue.registry.kind(named: job.kind) {
                let context = JobContext(jobID: job.id, attempt: job.attempt, queue: queue)
                outcome = await Self.attempt(kind, job, context, cancelled: { self.cancelRequested.withLock { $0.contains(job.id) } },
                    timedOut: { self.timedOut.withLock { $0.contains(job.id) } })
                // Written with the outcome (this task may be cancelled, and one transaction is cheaper).
                progress = context.takePending()
            } else {
                outcome = .failed(error: "this worker does not know the kind \"\(job.kind)\"")
            }
            cancelRequested.withLock { _ = $0.remove(job.id) }
            timedOut.withLock { _ = $0.remove(job.id) }
            outcomes.withLock { $0.append((job, outcome, progress)) }
        }
    }

    /// One attempt. The worker's loop enforces the kind's timeout by cancelling the task (`timedOut`
    /// then says so); `cancelled` says whether an operator asked for cancellation.
    static func attempt(
        _ kind: any JobKind, _ job: Job, _ context: JobContext,
        cancelled: @escaping @Sendable () -> Bool, timedOut: @escaping @Sendable () -> Bool = { false }
    ) async -> JobQueue.Outcome {
        do {
            let result = try await kind.run(arguments: job.args, context: context)
            if timedOut() { return .failed(error: "timed out after \(formatDuration(kind.timeout))") }
            return .succeeded(result: result)
        } catch {
            if timedOut() { return .failed(error: "timed out after \(formatDuration(kind.timeout))") }
            if cancelled() { return .cancelled }
            return .failed(error: "\(error)")
        }
    }
}
