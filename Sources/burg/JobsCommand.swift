import ArgumentParser
import BurgCore
import BurgJobs
import Foundation
import Logging
import ServiceLifecycle

/// `burg jobs list|show|cancel|retry|stats|enqueue|schedule`.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Inspect and manage the job queue (safe while `burg serve` and workers run).",
        discussion: """
            Jobs run in `burg worker` processes (or those `burg serve --workers N` supervises). Delivery is at least once: a job whose worker dies runs again, so handlers are idempotent.

            Exit codes: 0 ok, 64 unknown kind or bad arguments/schedule, 65 job in the wrong state, 66 no such job.
            """,
        subcommands: [List.self, Show.self, Cancel.self, Retry.self, Stats.self, Enqueue.self, Schedule.self]
    )

    static func queue(_ dataDir: DataDirOptions, create: Bool = false) throws -> JobQueue {
        let store = try dataDir.openStore(create: create)
        return JobQueue(store: store, registry: BurgJobKinds.registry(store: store, dataDirectory: dataDir.filePath))
    }

    static func line(_ job: Job) -> String {
        let progress = job.percent.map { " \(Int($0))%" } ?? ""
        return "\(job.id)\t\(job.kind)\t\(job.state.rawValue)\(progress)\tattempt \(job.attempt)/\(job.maxAttempts)\t\(job.error ?? "")"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")
        @OptionGroup var dataDir: DataDirOptions
        @Option(help: "available, running, succeeded, failed, cancelled or discarded.") var state: String?
        @Option(help: "Only this kind.") var kind: String?
        @Option var page = 1
        @Option var perPage = 30
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                var filter: JobState?
                if let state {
                    guard let parsed = JobState(rawValue: state) else { throw JobError(.invalidArguments, "unknown state \(state)") }
                    filter = parsed
                }
                let result = try await JobsCommand.queue(dataDir).list(state: filter, kind: kind, page: page, perPage: perPage)
                if json { return try RecordsCLI.printJSON(["totalItems": AnyEncodable(result.totalItems), "items": AnyEncodable(result.items)]) }
                for job in result.items { print(JobsCommand.line(job)) }
                print("\(result.totalItems) job(s)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job: state, arguments, progress, times (UTC), result or error.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The job's id.") var id: Int64
        @Flag(help: "Print JSON (times as ISO 8601, arguments and result as JSON values).") var json = false

        func run() async throws {
            try await reportingErrors {
                let job = try await JobsCommand.queue(dataDir).get(id)
                if json { return try RecordsCLI.printJSON(JobView(job)) }
                for line in JobView(job).lines { print(line) }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued job, or ask a running one to stop.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument var id: Int64

        func run() async throws {
            try await reportingErrors { print(JobsCommand.line(try await JobsCommand.queue(dataDir).cancel(id))) }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a failed, discarded or cancelled job again.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument var id: Int64

        func run() async throws {
            try await reportingErrors { print(JobsCommand.line(try await JobsCommand.queue(dataDir).retry(id))) }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts by state and kind, throughput, queue-to-start p50/p99.")
        @OptionGroup var dataDir: DataDirOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let stats = try JobsCommand.queue(dataDir).stats()
                if json { return try RecordsCLI.printJSON(stats) }
                print("by state: " + stats.byState.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                print("throughput: \(String(format: "%.1f", stats.throughputPerSecond)) jobs/s (last minute)")
                print("queue to start: p50 \(String(format: "%.2f", stats.queueToStartP50ms)) ms, p99 \(String(format: "%.2f", stats.queueToStartP99ms)) ms")
                print("oldest waiting: \(Int(stats.oldestWaitingSeconds)) s; failed in the last hour: \(stats.failedLastHour)")
            }
        }
    }

    struct Enqueue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enqueue a job of a known kind.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The kind (noop, records.import, records.validate, backup.create).") var kind: String
        @Option(help: "Arguments as a JSON object. records.import: {\"collection\": C, \"file\": F}, F relative to the data directory (e.g. uploads/p.ndjson for <data dir>/uploads/p.ndjson), checked when enqueued; records.validate: {\"collection\": C}.")
        var args = "{}"
        @Option var queue = "default"
        @Option var priority = 0
        @Option(help: "Seconds to wait before the first attempt.") var delay = 0.0
        @Option(help: "Attempts before the job is discarded (default: the kind's).") var maxAttempts: Int?
        @Option(help: "Do not enqueue if a job of this kind with this key is queued, running, or was enqueued within the hour.") var uniqueKey: String?
        @Option(help: "Enqueue this many copies in one transaction (load tests).") var count = 1

        func validate() throws {
            try OptionRange.check(delay, "--delay", 0...OptionRange.longestSeconds, "seconds")
            // One transaction holds every copy.
            try OptionRange.check(count, "--count", 1...1_000_000, "jobs")
            try OptionRange.check(priority, "--priority", Int(Int32.min)...Int(Int32.max))
            try OptionRange.check(maxAttempts, "--max-attempts", 1...1_000)
        }

        func run() async throws {
            try await reportingErrors {
                let jobs = try JobsCommand.queue(dataDir, create: true)
                var request = JobRequest(kind: kind, args: args)
                request.queue = queue
                request.priority = priority
                request.delay = .milliseconds(Int64(delay * 1000))
                request.maxAttempts = maxAttempts
                request.uniqueKey = uniqueKey
                let (copies, finalRequest) = (count, request)
                let ids = try await jobs.store.write { db in try (0..<copies).map { _ in try jobs.enqueue(finalRequest, in: db) } }
                print(count == 1 ? "\(ids[0])" : "enqueued \(ids.count) job(s), ids \(ids.first!)…\(ids.last!)")
            }
        }
    }

    struct Schedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add or replace a cron schedule (`burg jobs schedule nightly-backup '0 3 * * *' backup.create`).",
            discussion: "Schedules fire in `burg serve` (each slot once, however many servers/schedulers run). --remove deletes one.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument var name: String
        @Argument(help: "5-field cron expression (UTC).") var cron: String?
        @Argument var kind: String?
        @Option var args = "{}"
        @Option(help: "Slots missed while stopped: once, all or skip.") var missed = "once"
        @Flag var remove = false

        func run() async throws {
            try await reportingErrors {
                let scheduler = JobScheduler(queue: try JobsCommand.queue(dataDir, create: true))
                if remove { return try scheduler.remove(name) }
                guard let cron, let kind else { throw JobError(.invalidSchedule, "give a cron expression and a kind, or --remove") }
                guard let policy = JobSchedule.Missed(rawValue: missed) else { throw JobError(.invalidSchedule, "--missed is once, all or skip") }
                try scheduler.save(JobSchedule(name: name, cron: cron, kind: kind, args: args, missed: policy))
                print("schedule \(name) saved")
            }
        }
    }
}

/// Encodes any Encodable (for small ad-hoc JSON objects).
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

/// `burg worker`: runs jobs until SIGTERM (then drains).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run jobs from the queue until SIGINT/SIGTERM (then finish running jobs, up to --drain-timeout).")
    @OptionGroup var dataDir: DataDirOptions
    @Option(help: "Jobs run at once.") var concurrency = 16
    @Option(help: "Comma-separated queues to take jobs from.") var queues = "default"
    @Option(help: "Seconds running jobs may take to finish on SIGTERM before being released to other workers.") var drainTimeout = 30.0
    @Option(help: "Seconds a claim on a job lasts without a heartbeat (heartbeats come every third of it); a killed worker's jobs run again after it.") var lease = 30.0

    func validate() throws {
        try OptionRange.check(concurrency, "--concurrency", 1...1024, "jobs")
        try OptionRange.check(drainTimeout, "--drain-timeout", 0...86_400, "seconds")
        try OptionRange.check(lease, "--lease", 1...86_400, "seconds")
    }

    func run() async throws {
        // The same JSON lines as `burg serve`, on stdout (the supervising server's stdout, when it runs
        // under one); the rotating log file is the server's alone.
        JSONLogHandler.bootstrap(file: nil, logLevel: .info)
        // Started by `burg serve`: stop when it stops, however it stops.
        guard ParentWatch.terminateWithSupervisor() else { return }
        try await reportingErrors {
            let queue = try JobsCommand.queue(dataDir, create: true)
            var configuration = JobWorker.Configuration()
            configuration.concurrency = concurrency
            configuration.queues = queues.split(separator: ",").map(String.init)
            configuration.drainTimeout = .milliseconds(Int64(drainTimeout * 1000))
            configuration.lease = .milliseconds(Int64(lease * 1000))
            configuration.heartbeatInterval = .milliseconds(Int64(lease * 1000 / 3))
            configuration.rescueInterval = .milliseconds(Int64(min(5, lease / 3) * 1000))
            let worker = JobWorker(queue: queue, configuration: configuration)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "burg.worker")))
            try await group.run()
        }
    }
}
