import Synchronization

/// A stop request shared by a run's threads and processes: set once (by SIGINT or a caller), read by
/// every I/O loop before each I/O.
public final class BenchCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Live counters of the running workload, read by the progress line while threads add to them.
public final class LiveCounters: Sendable {
    private let bytesCounter = Atomic<UInt64>(0)
    private let iosCounter = Atomic<UInt64>(0)
    public init() {}
    func add(bytes: UInt64) {
        bytesCounter.wrappingAdd(bytes, ordering: .relaxed)
        iosCounter.wrappingAdd(1, ordering: .relaxed)
    }
    func set(bytes: UInt64, ios: UInt64) {
        bytesCounter.store(bytes, ordering: .relaxed)
        iosCounter.store(ios, ordering: .relaxed)
    }
    public var bytes: UInt64 { bytesCounter.load(ordering: .relaxed) }
    public var ios: UInt64 { iosCounter.load(ordering: .relaxed) }
}

/// Bytes the threads of a limited run may still issue; each I/O reserves its block before issuing.
final class ByteBudget: Sendable {
    private let remaining: Atomic<UInt64>
    init(_ bytes: UInt64) { remaining = Atomic(bytes) }

    /// Takes `bytes` from the budget; false when less than that is left.
    func reserve(_ bytes: UInt64) -> Bool {
        var current = remaining.load(ordering: .relaxed)
        while current >= bytes {
            let (exchanged, original) = remaining.compareExchange(
                expected: current, desired: current - bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The cancellation SIGINT and SIGTERM set; created before any handler can run (see ``onSignals()``).
private let signalCancellation = BenchCancellation()

extension BenchCancellation {
    /// A cancellation that SIGINT and SIGTERM set, for the CLI. A real handler (not SIG_IGN plus a
    /// dispatch source) so that child processes such as fio start with the default disposition: an
    /// ignored signal would stay ignored across exec and fio could not be interrupted.
    public static func onSignals() -> BenchCancellation {
        let cancellation = signalCancellation
        for number in [SIGINT, SIGTERM] {
            var action = sigaction()
            #if canImport(Darwin)
            action.__sigaction_u.__sa_handler = { _ in signalCancellation.cancel() }
            #else
            action.__sigaction_handler.sa_handler = { _ in signalCancellation.cancel() }
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
        return cancellation
    }
}
