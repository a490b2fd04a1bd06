import Dispatch
import HummingbirdBcrypt
import Synchronization

/// bcrypt hashing and verification on threads of its own.
///
/// A bcrypt hash costs tens of milliseconds of CPU by design. Done on the threads that serve requests
/// (Swift's cooperative pool, NIO's event loops) a burst of sign-ins would stall every other request;
/// here each call suspends its task and runs on one of a few dedicated dispatch queues, which are
/// ordinary threads outside the cooperative pool, so other requests keep being served.
public final class PasswordHasher: Sendable {
    private let queues: [DispatchQueue]
    private let next = Atomic<Int>(0)
    public let cost: Int

    /// - Parameters:
    ///   - cost: bcrypt's cost, 4…31.
    ///   - threads: how many hashes may run at once.
    public init(cost: Int, threads: Int) {
        precondition((4...31).contains(cost), "bcrypt cost must be 4…31")
        self.cost = cost
        queues = (0..<max(1, threads)).map { DispatchQueue(label: "burg.password-hasher.\($0)", qos: .userInitiated) }
    }

    /// A new bcrypt hash of `password` (with a random salt).
    public func hash(_ password: String) async -> String {
        let cost = UInt8(self.cost)
        return await run { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`. A malformed hash does not match.
    public func verify(_ password: String, hash: String) async -> Bool {
        await run { Bcrypt.verify(password, hash: hash) }
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        let queue = queues[abs(index % queues.count)]
        return await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}
