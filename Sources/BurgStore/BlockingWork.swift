import Foundation
import NIOPosix

/// Where blocking work runs when an async caller needs it: SQLite calls block their thread — a read for its statements,
/// a write while it waits for the writer connection. On Linux, `DispatchQueue.global()` shares its few
/// threads (one per core) with Swift's cooperative pool, so requests waiting for the writer would stall
/// every other task. This pool has threads of its own, enough for the store's readers plus a queue of
/// writers (whose waits group their commits, see `Store.groupedWrite(_:)`).
public enum BlockingWork {
    public static let threadCount = max(16, 4 * ProcessInfo.processInfo.activeProcessorCount)

    /// Started once and never shut down: it lives as long as the process, like NIO's own singletons.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
        return pool
    }()

    /// Runs `body` on one of the pool's threads and returns what it returns.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
