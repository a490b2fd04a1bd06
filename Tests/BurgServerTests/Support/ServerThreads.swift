import Foundation

/// Threads of their own for an in-process server and the test that drives it. Swift's cooperative pool
/// has one thread per core, and other tests in this process block those threads while they wait for
/// child processes; a server starved of them answers late or not at all (`burg serve` has a process of
/// its own). A task run under `withTaskExecutorPreference(ServerThreads.shared)` runs here, and so do
/// its child tasks: the server's connections, its services and the test's requests.
final class ServerThreads: TaskExecutor, @unchecked Sendable {
    // Sendable because its only mutable state, `jobs`, is read and written with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    static let shared = ServerThreads(count: 8)
    /// Where test bodies that block run (``offThePool(_:)``), apart from the servers' threads.
    static let testBodies = ServerThreads(count: 8)

    /// Starts `count` threads that live as long as the process.
    private init(count: Int) {
        for index in 0..<count {
            let thread = Thread { self.work() }
            thread.name = "burg-test-server-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs a test body that blocks — it waits for child processes — on threads of its own, in the test's
/// own task (so its expectations are recorded against the test). Run synchronously, such a body holds one
/// of Swift's cooperative threads (two on two cores) for as long as it takes, and everything else of the
/// test process that needs that pool, the in-process servers' libraries among it, waits with it.
func offThePool<T>(_ body: () throws -> T) async throws -> T {
    try await withTaskExecutorPreference(ServerThreads.testBodies) { try body() }
}
