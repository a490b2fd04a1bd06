import ArgumentParser
import BurgCore
import BurgJobs
import BurgStore
import Foundation
import GRDB
import ServiceLifecycle
import SystemPackage

/// The job queue against huey (Benchmarks/jobs.sh): enqueue rate (one job per transaction, as an API
/// call would), drain rate of no-op jobs by one worker (this process), queue-to-start latency on an idle
/// queue, and the idle worker's CPU. Prints one JSON line.
struct JobsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs")
    @Option var dir: String
    @Option var jobs = 20_000
    @Option var concurrency = 64

    func run() async throws {
        try? FileManager.default.removeItem(atPath: dir)
        let store = try Store(StoreConfiguration(dataDirectory: FilePath(dir)), migrations: .store + JobSchema.migrations)
        let queue = JobQueue(store: store, registry: JobRegistry())

        var started = ContinuousClock.now
        // The blocking call, as the peer's client makes it: nothing else runs in this process yet, so
        // blocking its thread costs nobody (a nested function is a synchronous context).
        func enqueueAll() throws { for _ in 0..<jobs { try queue.enqueue(JobRequest(kind: "noop")) } }
        try enqueueAll()
        let enqueueRate = Double(jobs) / (ContinuousClock.now - started).seconds

        var configuration = JobWorker.Configuration()
        configuration.concurrency = concurrency
        let worker = JobWorker(queue: queue, configuration: configuration)
        let group = ServiceGroup(configuration: .init(services: [.init(service: worker)], logger: .init(label: "bench")))
        started = ContinuousClock.now
        let running = Task { try await group.run() }
        while try await store.read({ db in try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM _jobs WHERE state = 'succeeded'") ?? 0 }) < jobs {
            try await Task.sleep(for: .milliseconds(2))
        }
        let drainRate = Double(jobs) / (ContinuousClock.now - started).seconds

        // Idle: CPU over 5 s with nothing to do.
        try await Task.sleep(for: .milliseconds(500))
        let cpuBefore = Self.cpuSeconds()
        try await Task.sleep(for: .seconds(5))
        let idleCPU = (Self.cpuSeconds() - cpuBefore) / 5 * 100

        // Queue-to-start on the idle queue: one job every 20 ms.
        let firstLatencyJob = try await queue.enqueue(JobRequest(kind: "noop"))
        for _ in 0..<199 {
            try await Task.sleep(for: .milliseconds(20))
            try await queue.enqueue(JobRequest(kind: "noop"))
        }
        try await Task.sleep(for: .milliseconds(200))
        let waits = try await store.read { db in
            try Double.fetchAll(db.sqlite, sql: "SELECT (started_at - created_at) * 1000 FROM _jobs WHERE id >= ? ORDER BY 1", arguments: [firstLatencyJob])
        }
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        let p50 = waits[waits.count / 2], p99 = waits[min(waits.count - 1, Int(Double(waits.count) * 0.99))]
        print("{\"impl\": \"burg\", \"jobs\": \(jobs), \"enqueuePerSecond\": \(Int(enqueueRate)), \"drainPerSecond\": \(Int(drainRate)), "
            + "\"idleWorkerCPUPercent\": \(String(format: "%.2f", idleCPU)), \"queueToStartP50ms\": \(String(format: "%.2f", p50)), "
            + "\"queueToStartP99ms\": \(String(format: "%.2f", p99))}")
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
