import BurgCore
@testable import BurgJobs
import BurgTestSupport
import Foundation
import GRDB
import Testing

/// Worker processes are real `burg` processes; the tests only watch the database (read-only, blocking
/// polls), so a busy test runner cannot slow the workers down.
struct WorkerFixture {
    let dir = try! TemporaryDirectory()
    static let environment = ["BURG_TEST_JOB_KINDS": "1"]

    func burg(_ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(BuiltProducts.burg, arguments + ["--data-dir", dir.path.string], environment: Self.environment)
    }

    func enqueue(_ kind: String, _ args: String, count: Int = 1) throws -> Int64 {
        let process = try burg(["jobs", "enqueue", kind, "--args", args, "--count", "\(count)"])
        try #require(try process.wait() == 0, "\(process.standardError)")
        // One job prints its id; several print a summary.
        return Int64(process.lines.joined().trimmingCharacters(in: .whitespaces)) ?? 0
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try DatabaseQueue(path: dir.path("data.db").string).read(body)
    }

    func job(_ id: Int64) throws -> Row {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM _jobs WHERE id = ?", arguments: [id])! }
    }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    func waitUntil(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return try condition()
    }
}

@Suite struct WorkerSupervisorTests {
    /// Child processes of `pid` (the supervised workers).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid
        }
    }

    @Test func killNineOfRandomWorkersLosesNoJobAndEveryJobSucceeds() throws {
        let soak = ProcessInfo.processInfo.environment["BURG_SOAK"] == "1"
        let total = soak ? 10_000 : 2_000
        let fixture = WorkerFixture()
        _ = try fixture.enqueue("test.record-id", #"{"sleepMs": 3}"#, count: total)
        let server = try fixture.burg(["serve", "--http", "127.0.0.1:0", "--workers", "4", "--worker-concurrency", "4", "--worker-backoff", "0.05",
            "--worker-max-backoff", "0.5", "--worker-lease", "3", "--worker-crash-limit", "1000"])
        defer { server.signal(SIGKILL) }
        var kills = 0
        let finished = fixture.waitUntil(timeout: soak ? 600 : 120) {
            let succeeded = (try? fixture.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM _jobs WHERE state = 'succeeded'") ?? 0 }) ?? 0
            if succeeded == total { return true }
            // Kill while most of the work is ahead (every few hundred ms), then let survivors and the rescuer finish.
            if succeeded < total * 9 / 10, let victim = Self.children(of: server.pid).randomElement() {
                kill(victim, SIGKILL)
                kills += 1
                Thread.sleep(forTimeInterval: Double.random(in: 0.15...0.4))
            }
            return false
        }
        let (ids, runs, states) = try fixture.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM _test_job_ids") ?? 0,
             try Int.fetchOne(db, sql: "SELECT SUM(runs) FROM _test_job_ids") ?? 0,
             try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM _jobs GROUP BY state").map { "\($0["state"] as String)=\($0["n"] as Int)" })
        }
        #expect(finished)
        #expect(kills >= 3, "the test must actually kill workers")
        #expect(ids == total, "every job's effect is present: \(ids) of \(total)")
        #expect(states == ["succeeded=\(total)"], "\(states)")
        // Re-runs are what at-least-once delivery costs: jobs whose worker died after the handler's commit.
        print("kill -9 soak: \(total) jobs, \(kills) workers killed, \(runs - total) re-runs")
    }

    @Test func anAttemptOverItsKindsTimeoutIsStoppedRetriedWithBackoffThenDiscarded() throws {
        let fixture = WorkerFixture()
        // test.sleep: timeout 1 s, 2 attempts; this one would sleep 20 s.
        let id = try fixture.enqueue("test.sleep", #"{"ms": 20000}"#)
        let worker = try fixture.burg(["worker", "--lease", "3"])
        defer { worker.signal(SIGKILL) }
        let started = Date()
        #expect(fixture.waitUntil(timeout: 30) { (try? fixture.job(id)["state"] as String) == "discarded" })
        let job = try fixture.job(id)
        #expect(Date().timeIntervalSince(started) < 12, "two 1 s attempts and one backoff, not 2 × 20 s")
        #expect((job["attempt"] as Int) == 2)
        #expect((job["error"] as String?)?.contains("timed out after 1.0 s") == true, "\(job)")
        #expect(((job["progress_done"] as Int?) ?? 0) > 0, "progress was recorded while it ran")
    }

    @Test func cancellingARunningJobStopsItsHandlerAtTheNextHeartbeat() throws {
        let fixture = WorkerFixture()
        let id = try fixture.enqueue("test.record-id", #"{"sleepMs": 30000}"#)
        let worker = try fixture.burg(["worker", "--lease", "1.5"])
        defer { worker.signal(SIGKILL) }
        #expect(fixture.waitUntil(timeout: 20) { (try? fixture.job(id)["state"] as String) == "running" })
        let cancel = try fixture.burg(["jobs", "cancel", "\(id)"])
        #expect(try cancel.wait() == 0, "\(cancel.standardError)")
        let asked = Date()
        #expect(fixture.waitUntil(timeout: 10) { (try? fixture.job(id)["state"] as String) == "cancelled" })
        #expect(Date().timeIntervalSince(asked) < 5)
        let effect = try fixture.read { db in try db.tableExists("_test_job_ids") ? try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM _test_job_ids") ?? 0 : 0 }
        #expect(effect == 0, "the handler was stopped before its write")
    }

    @Test func badInputToTheCLIIsRefusedWithExitCodesAndEnqueuesNothing() throws {
        let fixture = WorkerFixture()
        let cases: [([String], Int32)] = [
            (["jobs", "enqueue", "no.such.kind"], ExitStatus.usage),
            (["jobs", "enqueue", "noop", "--args", "[1]"], ExitStatus.usage),
            (["jobs", "enqueue", "noop", "--args", "{bad"], ExitStatus.usage),
            (["jobs", "enqueue", "noop", "--delay", "-5"], ExitStatus.usage),
            (["jobs", "enqueue", "records.import", "--args", #"{"collection": "x", "file": "../../etc/passwd"}"#], ExitStatus.usage),
            (["jobs", "schedule", "nightly", "61 * * * *", "noop"], ExitStatus.usage),
            (["jobs", "schedule", "nightly", "* * *", "noop"], ExitStatus.usage),
            (["jobs", "show", "424242"], ExitStatus.noInput),
        ]
        for (arguments, status) in cases {
            let process = try fixture.burg(arguments)
            #expect(try process.wait() == status, "\(arguments): \(process.standardError)")
            #expect(!process.standardError.isEmpty)
        }
        let (jobs, schedules) = try fixture.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM _jobs") ?? 0, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM _job_schedules") ?? 0)
        }
        #expect(jobs == 0 && schedules == 0)
    }

    /// A real `burg serve --workers 1` whose worker exits at start (an invalid --lease makes `burg worker`
    /// refuse to run): the supervisor's log shows the doubling backoff, then it gives up.
    @Test func workersDieWithTheirServeEvenWhenItIsKilledWithNine() throws {
        let fixture = WorkerFixture()
        let server = try fixture.burg(["serve", "--workers", "2", "--http", "127.0.0.1:0"])
        defer { server.signal(SIGKILL) }
        #expect(fixture.waitUntil(timeout: 60) { Self.children(of: server.pid).count == 2 }, "\(server.standardError.suffix(2000))")
        let workers = Self.children(of: server.pid)
        server.signal(SIGKILL)
        _ = try server.wait()
        // No orphan keeps running against the data directory.
        #expect(fixture.waitUntil(timeout: 20) { workers.allSatisfy { kill($0, 0) != 0 || Self.isZombie($0) } }, "workers \(workers) outlived serve")
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    @Test func aWorkerThatCrashesAtStartBacksOffThenIsGivenUpOn() throws {
        let fixture = WorkerFixture()
        // Every worker claims one of these as soon as it starts (one at a time) and dies with SIGKILL.
        _ = try fixture.enqueue("test.crash", "{}", count: 20)
        let server = try fixture.burg(["serve", "--http", "127.0.0.1:0", "--workers", "1", "--worker-concurrency", "1", "--worker-lease", "1", "--worker-backoff", "0.05",
            "--worker-crash-limit", "5"])
        defer { server.signal(SIGKILL) }
        // The supervisor logs JSON lines to standard output.
        #expect(fixture.waitUntil(timeout: 120) { server.lines.contains { $0.contains("crash loop") } }, "\(server.lines.suffix(20))")
        let restarts = server.lines.filter { $0.contains("restarting in") }
        let delays = restarts.compactMap { line in line.range(of: "restarting in ").map { String(line[$0.upperBound...].prefix(8)) } }
        #expect(delays.count == 4, "\(delays)")
        #expect(delays.first?.hasPrefix("50.0 ms") == true && delays.last?.hasPrefix("400.0 ms") == true, "\(delays)")
        #expect(server.isRunning, "serve itself keeps running")
    }

    @Test func queueHealthIsDegradedWhileWorkersRestartAndUnhealthyAfterTheCrashLimit() {
        let stats = JobStats(byState: [:], byKind: [:], throughputPerSecond: 0, queueToStartP50ms: 0, queueToStartP99ms: 0, oldestWaitingSeconds: 0, failedLastHour: 0)
        let restarting = WorkerSupervisor.Status(wanted: 2, alive: 1, restarts: 1, gaveUp: false, currentBackoff: .seconds(1), lastExit: "worker 0 exited with status 3")
        #expect(JobsHealth.evaluate(stats, supervisor: restarting).status == .degraded)
        var gaveUp = restarting
        gaveUp.gaveUp = true
        let health = JobsHealth.evaluate(stats, supervisor: gaveUp)
        #expect(health.status == .unhealthy && health.problem?.contains("crash") == true)
        let fine = WorkerSupervisor.Status(wanted: 2, alive: 2, restarts: 0, gaveUp: false, currentBackoff: .zero, lastExit: nil)
        #expect(JobsHealth.evaluate(stats, supervisor: fine).status == .healthy)
    }
}
