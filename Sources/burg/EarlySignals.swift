import Foundation
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The signal (SIGTERM/SIGINT) that arrived before the service group traps signals, or 0.
private let earlySignal = Atomic<Int32>(0)

/// A stop request during start-up (opening the store, migrations) must not kill the process abruptly:
/// it is remembered by a handler installed first thing, and replayed once the service group traps
/// signals itself, which then shuts down gracefully (exit 0).
struct EarlySignals: Service {
    static func install() {
        for number in [SIGTERM, SIGINT] {
            // Only an atomic store: async-signal-safe.
            signal(number) { received in earlySignal.store(received, ordering: .relaxed) }
        }
    }

    func run() async throws {
        // Services start after the group installed its own signal handling.
        let pending = earlySignal.load(ordering: .relaxed)
        if pending != 0 { kill(getpid(), pending) }
        try await gracefulShutdown()
    }
}
