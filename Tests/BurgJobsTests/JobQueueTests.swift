import BurgCore
@testable import BurgJobs
import BurgStore
import BurgTestSupport
import Foundation
import GRDB
import Synchronization
import Testing

final class ManualClock: Sendable {
    let seconds = Mutex(1_800_000_000.0)
    var now: Double { seconds.withLock { $0 } }
    func advance(_ by: Double) { seconds.withLock { $0 += by } }
    var jobClock: JobClock { JobClock { self.now } }
}

struct FailingJob: JobKind {
    var name: String { "test.fail" }
    var maxAttempts: Int { 3 }
    func run(arguments: String, context: JobContext) async throws -> String? { throw JobError(.invalidState, "boom") }
}


struct JobsFixture {
    let dir: TemporaryDirectory
    let store: Store
    let clock = ManualClock()
    let queue: JobQueue

    init(useManualClock: Bool = true) throws {
        dir = try TemporaryDirectory()
        store = try Store(StoreConfiguration(dataDirectory: dir.path), migrations: .store + JobSchema.migrations)
        queue = JobQueue(store: store, registry: JobRegistry([NoopJob(), FailingJob()]), clock: useManualClock ? clock.jobClock : .system)
    }

    func state(_ id: Int64) throws -> JobState { try queue.get(id).state }
}

@Suite struct JobQueueTests {
    @Test func failedAttemptsBackOffExponentiallyWithJitterThenTheJobIsDiscardedWithItsLastError() async throws {
        let fixture = try JobsFixture()
        let id = try await fixture.queue.enqueue(JobRequest(kind: "test.fail"))
        var delays: [Double] = []
        for attempt in 1...3 {
            let claimed = try fixture.queue.claim(worker: "w", queues: ["default"], limit: 10, lease: .seconds(30))
            #expect(claimed.map(\.id) == [id] && claimed[0].attempt == attempt)
            let context = JobContext(jobID: id, attempt: attempt, queue: fixture.queue)
            let outcome = await JobWorker.attempt(FailingJob(), claimed[0], context, cancelled: { false })
            try fixture.queue.finish([(claimed[0], outcome)], worker: "w")
            let job = try await fixture.queue.get(id)
            if attempt < 3 {
                #expect(job.state == .available && job.error?.contains("boom") == true)
                delays.append(job.runAt - fixture.clock.now)
                // Not due yet: nothing to claim until the clock passes run_at.
                #expect(try fixture.queue.claim(worker: "w", queues: ["default"], limit: 10, lease: .seconds(30)).isEmpty)
                fixture.clock.advance(job.runAt - fixture.clock.now + 0.001)
            } else {
                #expect(job.state == .discarded && job.error?.contains("boom") == true && job.finishedAt != nil)
            }
        }
        // Base 2 s doubling, ±25 %.
        #expect((1.5...2.5).contains(delays[0]) && (3...5).contains(delays[1]), "\(delays)")
        #expect(RetryBackoff().delay(afterAttempt: 30, random: 1) <= 3600 * 1.25)
    }

    @Test func aUniqueKeyDeduplicatesWithinItsWindowAndAfterwardsEnqueuesAgain() throws {
        let fixture = try JobsFixture()
        var request = JobRequest(kind: "noop")
        request.uniqueKey = "nightly"
        request.uniqueWindow = .seconds(60)
        let first = try fixture.queue.enqueue(request)
        #expect(try fixture.queue.enqueue(request) == first)
        let claimed = try fixture.queue.claim(worker: "w", queues: ["default"], limit: 1, lease: .seconds(30))
        try fixture.queue.finish([(claimed[0], .succeeded(result: nil))], worker: "w")
        #expect(try fixture.queue.enqueue(request) == first, "finished, but within the window")
        fixture.clock.advance(61)
        #expect(try fixture.queue.enqueue(request) != first)
    }

    @Test(arguments: [
        (JobRequest(kind: "nope"), JobError.Code.unknownKind),
        (JobRequest(kind: "noop", args: "[1, 2]"), .invalidArguments),
        (JobRequest(kind: "noop", args: "{not json"), .invalidArguments),
        ({ var r = JobRequest(kind: "noop"); r.delay = .seconds(-5); return r }(), .invalidArguments),
        ({ var r = JobRequest(kind: "noop"); r.maxAttempts = 0; return r }(), .invalidArguments),
        ({ var r = JobRequest(kind: "noop"); r.queue = ""; return r }(), .invalidArguments),
    ])
    func badRequestsAreRefusedAndEnqueueNothing(request: JobRequest, code: JobError.Code) throws {
        let fixture = try JobsFixture()
        let error = #expect(throws: JobError.self) { try fixture.queue.enqueue(request) }
        #expect(error?.code == code)
        #expect(try fixture.queue.list().totalItems == 0)
    }

    @Test func cancellingAQueuedJobIsImmediateAndAFinishedOneIsRefused() throws {
        let fixture = try JobsFixture()
        let queued = try fixture.queue.enqueue({ var r = JobRequest(kind: "noop"); r.delay = .seconds(3600); return r }())
        #expect(try fixture.queue.cancel(queued).state == .cancelled)
        let again = #expect(throws: JobError.self) { try fixture.queue.cancel(queued) }
        #expect(again?.code == .invalidState)
        #expect(try fixture.queue.retry(queued).state == .available)
        #expect((#expect(throws: JobError.self) { try fixture.queue.cancel(999) })?.code == .notFound)
    }

    @Test func aCronSlotFiresExactlyOnceWithThreeSchedulerProcesses() async throws {
        let fixture = try JobsFixture(useManualClock: false)
        let scheduler = JobScheduler(queue: fixture.queue)
        try scheduler.save(JobSchedule(name: "every-minute", cron: "* * * * *", kind: "noop"))
        // Make the next slot due now, for everyone at once.
        try await fixture.store.write { db in try db.sqlite.execute(sql: "UPDATE _job_schedules SET next_slot = ?", arguments: [Date().timeIntervalSince1970 - 1]) }
        let processes = try (0..<3).map { _ in try ChildProcess.helper("job-scheduler-tick", "--data-dir", fixture.dir.path.string, "--times", "20") }
        for process in processes { #expect(try await process.wait() == 0, "\(process.standardError)") }
        let fired = try await fixture.store.read { db in try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM _job_schedule_fires") ?? 0 }
        let jobs = try await fixture.queue.list(kind: "noop").totalItems
        #expect(fired == 1 && jobs == 1)
    }

    /// A cancelled scheduler (another service of `serve` failed, e.g. its port was taken) must end, not
    /// spin on a sleep that returns at once.
    @Test func cancellingTheSchedulerEndsItsLoop() async throws {
        let fixture = try JobsFixture(useManualClock: false)
        let scheduler = JobScheduler(queue: fixture.queue)
        let run = Task { try await scheduler.run() }
        try await Task.sleep(for: .milliseconds(100))
        run.cancel()
        let ended = await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = try? await run.value; return true }
            group.addTask { try? await Task.sleep(for: .seconds(30)); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(ended)
    }

    @Test(arguments: ["* * *", "61 * * * *", "* 24 * * *", "*/0 * * * *", "a b c d e", "5-1 * * * *", "* * 0 * *"])
    func cronSyntaxErrorsAreRefusedBeforeAnythingIsStored(cron: String) throws {
        let fixture = try JobsFixture()
        let error = #expect(throws: JobError.self) { try JobScheduler(queue: fixture.queue).save(JobSchedule(name: "x", cron: cron, kind: "noop")) }
        #expect(error?.code == .invalidSchedule)
        #expect(try fixture.store.read { db in try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM _job_schedules") } == 0)
    }

    @Test func cronExpressionsFindTheirNextSlot() throws {
        let base = 1_800_000_000.0  // 2027-01-15 08:00:00 UTC, a Friday
        #expect(try CronExpression("*/15 * * * *").next(after: base) == base + 900)
        #expect(try CronExpression("0 3 * * *").next(after: base) == base - 8 * 3600 + 27 * 3600)
        #expect(try CronExpression("30 8 * * 1-5").next(after: base) == base + 1800)
        #expect(try CronExpression("0 0 1 1 *").next(after: base).map { $0 > base + 300 * 86400 } == true)
    }
}

