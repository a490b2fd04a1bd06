import ArgumentParser
import BurgJobs
import BurgStore
import Foundation
import SystemPackage

/// Runs the cron scheduler's tick `times` times, 10 ms apart (several of these race in tests).
struct JobSchedulerTick: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job-scheduler-tick")
    @Option var dataDir: String
    @Option var times = 10

    func run() throws {
        let store = try Store(StoreConfiguration(dataDirectory: FilePath(dataDir)), migrations: .store + JobSchema.migrations)
        let scheduler = JobScheduler(queue: JobQueue(store: store, registry: JobRegistry()))
        for _ in 0..<times {
            try scheduler.tick()
            usleep(10_000)
        }
    }
}
