import Dispatch
import Logging
import ServiceLifecycle

/// Keeps a store's WAL short and its query plans good, for as long as the service group runs:
/// - every ``Configuration/checkpointInterval``: a PASSIVE checkpoint on a connection of its own (never
///   waits, never blocks writers; with ``StoreConfiguration/autoCheckpointPages`` 0 the only checkpoints);
/// - when the WAL file has passed ``StoreConfiguration/walSizeLimit`` and nothing holds it back: a
///   TRUNCATE checkpoint that empties it; when a reader holds it back, a warning naming that process;
/// - every ``Configuration/optimizeInterval``, and once at shutdown: `PRAGMA optimize`.
///
/// Failures are logged and retried at the next tick; they never stop the service group.
public struct StoreMaintenance: Service {
    public struct Configuration: Sendable {
        public var checkpointInterval: Duration = .seconds(1)
        public var optimizeInterval: Duration = .seconds(3600)
        public init() {}
    }

    public let store: Store
    public let configuration: Configuration
    let logger: Logger

    public init(store: Store, configuration: Configuration = Configuration(), logger: Logger = Logger(label: "burg.store.maintenance")) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        var sinceOptimize = Duration.zero
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: configuration.checkpointInterval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            sinceOptimize += configuration.checkpointInterval
            let optimize = sinceOptimize >= configuration.optimizeInterval
            if optimize { sinceOptimize = .zero }
            await offThread { tick(optimize: optimize) }
        }
        await offThread {
            do { try store.optimize() } catch { logger.warning("PRAGMA optimize at shutdown failed: \(error)") }
        }
        // Shutdown order is observable: anything logged after this ran without background maintenance.
        logger.info("store maintenance stopped", metadata: ["database": "\(store.path)"])
    }

    /// One round of maintenance; returns the checkpoints it ran. Public for `burg db checkpoint` and tests.
    @discardableResult
    public func tick(optimize: Bool = false) -> [CheckpointResult] {
        var results: [CheckpointResult] = []
        do {
            let passive = try store.checkpoint(.passive)
            results.append(passive)
            if passive.walBytesAfter > Int64(store.configuration.walSizeLimit) {
                if passive.isComplete {
                    results.append(try store.checkpoint(.truncate))
                } else {
                    let readers = WALReader.holding(shmPath: store.configuration.shmPath).filter { !$0.isThisProcess }
                    logger.warning(
                        "WAL exceeds its limit and cannot be checkpointed: a reader holds an old snapshot",
                        metadata: [
                            "database": "\(store.path)", "walBytes": "\(passive.walBytesAfter)",
                            "checkpointed": "\(passive.checkpointedFrames)/\(passive.walFrames)",
                            "readers": "\(readers.map(\.description))",
                        ])
                }
            }
        } catch {
            logger.warning("checkpoint failed: \(error)")
        }
        if optimize {
            do { try store.optimize() } catch { logger.warning("PRAGMA optimize failed: \(error)") }
        }
        return results
    }

    /// Runs blocking SQLite work on a dispatch thread rather than a Swift-concurrency one: a TRUNCATE
    /// checkpoint may wait for readers.
    private func offThread(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                work()
                continuation.resume()
            }
        }
    }
}
