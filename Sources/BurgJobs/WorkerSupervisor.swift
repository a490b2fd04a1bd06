import BurgCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps N worker processes (`burg worker …`) running: a worker that exits is restarted after a backoff
/// (1 s, doubling to 60 s; reset after a worker ran a minute); after `crashLimit` crashes within
/// `crashWindow` it stops restarting and reports unhealthy (a crash loop needs a person). On graceful
/// shutdown the workers get SIGTERM (they drain), and SIGKILL after `drainTimeout`.
public final class WorkerSupervisor: Service, Sendable {
    public struct Configuration: Sendable {
        public var workers: Int
        public var executable: URL
        public var arguments: [String]
        public var initialBackoff: Duration = .seconds(1)
        public var maxBackoff: Duration = .seconds(60)
        public var crashLimit = 5
        public var crashWindow: Duration = .seconds(300)
        public var drainTimeout: Duration = .seconds(35)

        public init(workers: Int, executable: URL, arguments: [String]) {
            self.workers = workers
            self.executable = executable
            self.arguments = arguments
        }
    }

    /// What health reports.
    public struct Status: Sendable, Equatable {
        public var wanted: Int
        public var alive: Int
        public var restarts: Int
        public var gaveUp: Bool
        public var currentBackoff: Duration
        public var lastExit: String?
        /// The waits before each restart so far (the backoff, visible).
        public var restartDelays: [Duration] = []
    }

    public let configuration: Configuration
    let logger: Logger
    private let state: Mutex<Status>

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "burg.supervisor")) {
        self.configuration = configuration
        self.logger = logger
        state = Mutex(Status(wanted: configuration.workers, alive: 0, restarts: 0, gaveUp: false, currentBackoff: .zero, lastExit: nil))
    }

    public var status: Status { state.withLock { $0 } }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for slot in 0..<configuration.workers {
                group.addTask { await self.keep(slot) }
            }
        }
        // Having given up on a crash-looping worker is reported by health; it must not end the service,
        // which would stop the whole server with it. Stay until shutdown (or cancellation).
        if !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await gracefulShutdown()
        }
    }

    /// Keeps one worker slot running until shutdown or until the crash limit is reached.
    private func keep(_ slot: Int) async {
        var crashes: [ContinuousClock.Instant] = []
        var backoff = configuration.initialBackoff
        while !Task.isShuttingDownGracefully, !Task.isCancelled, !status.gaveUp {
            // The worker dies with this process, even if it is killed with -9 (see ParentWatch).
            let environment = ProcessInfo.processInfo.environment.merging([ParentWatch.variable: "\(getpid())"]) { $1 }
            let started = ContinuousClock.now
            let exit: (status: Int32, signal: Int32?)
            do {
                // posix_spawn, not Foundation's Process: its run() can crash this process on Linux
                // (see ProcessSpawn). The worker shares this process's standard streams.
                let pid = try ProcessSpawn.start(configuration.executable.path, configuration.arguments,
                                                 environment: environment, stdin: 0, stdout: 1, stderr: 2)
                state.withLock { $0.alive += 1 }
                logger.info("worker started", metadata: ["slot": "\(slot)", "pid": "\(pid)"])
                exit = await Self.wait(pid, drainTimeout: configuration.drainTimeout)
                state.withLock { $0.alive -= 1 }
            } catch {
                logger.error("cannot start worker: \(error)")
                exit = (127, nil)  // counted as a crash: a worker that cannot start is a crash loop too
            }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            let description = exit.signal.map { "killed by signal \($0)" } ?? "exited with status \(exit.status)"
            let now = ContinuousClock.now
            if now - started > .seconds(60) { backoff = configuration.initialBackoff }
            crashes = crashes.filter { now - $0 < configuration.crashWindow } + [now]
            let gaveUp = crashes.count >= configuration.crashLimit
            state.withLock {
                $0.restarts += 1
                $0.lastExit = "worker \(slot) \(description)"
                $0.currentBackoff = backoff
                if gaveUp { $0.gaveUp = true } else { $0.restartDelays.append(backoff) }
            }
            if gaveUp {
                logger.critical("worker crash loop: \(crashes.count) crashes within \(formatDuration(configuration.crashWindow)); not restarting", metadata: ["last": "\(description)"])
                return
            }
            logger.warning("worker \(description); restarting in \(formatDuration(backoff))", metadata: ["slot": "\(slot)"])
            let wait = backoff
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            backoff = min(configuration.maxBackoff, backoff * 2)
        }
    }

    /// Waits for the worker `pid` to end; on graceful shutdown (or cancellation, when another service of
    /// the group failed) sends SIGTERM, then SIGKILL after `drainTimeout`.
    static func wait(_ pid: pid_t, drainTimeout: Duration) async -> (status: Int32, signal: Int32?) {
        var terminated = false
        var deadline: ContinuousClock.Instant?
        while true {
            if let exit = ProcessSpawn.exit(of: pid, wait: false) { return (exit.status, exit.signal) }
            if Task.isShuttingDownGracefully || Task.isCancelled, !terminated {
                terminated = true
                kill(pid, SIGTERM)
                deadline = ContinuousClock.now + drainTimeout
            }
            if let deadline, ContinuousClock.now > deadline { kill(pid, SIGKILL) }
            // A detached sleep: a cancelled task's own sleep returns at once, and this loop would spin.
            await Task.detached { try? await Task.sleep(for: .milliseconds(50)) }.value
        }
    }
}
