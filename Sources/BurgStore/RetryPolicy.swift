/// When a write that met a lock is tried again.
///
/// A write attempt that fails with SQLITE_BUSY (another connection held the lock past
/// ``StoreConfiguration/busyTimeout``), SQLITE_BUSY_SNAPSHOT (a deferred transaction read a snapshot
/// that another connection made stale before this one could write) or SQLITE_LOCKED is rolled back and
/// its *whole closure* runs again after an exponential backoff with full jitter, until ``deadline`` has
/// passed since the first attempt. Every other error (constraint, syntax, I/O, corruption) is thrown at
/// once.
public struct RetryPolicy: Sendable, Equatable {
    /// Give up (and throw ``StoreError`` with code `.busy`) when this much time has passed since the
    /// first attempt.
    public var deadline: Duration
    /// The backoff cap of the first retry; it doubles each retry up to ``maximumBackoff``.
    public var initialBackoff: Duration
    public var maximumBackoff: Duration

    public init(
        deadline: Duration = .seconds(30),
        initialBackoff: Duration = .microseconds(200),
        maximumBackoff: Duration = .milliseconds(100)
    ) {
        self.deadline = deadline
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    public static let `default` = RetryPolicy()

    /// Full jitter: a uniformly random wait between zero and `min(maximum, initial * 2^retry)`, so that
    /// writers that collided do not collide again in lockstep.
    public func backoff(beforeRetry retry: Int) -> Duration {
        let cap = min(maximumBackoff, initialBackoff * (1 << min(retry, 30)))
        let nanoseconds = cap.nanoseconds
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds))
    }
}

extension Duration {
    /// Whole nanoseconds (saturating), for arithmetic with clocks and sleeps.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product &+ attoseconds / 1_000_000_000
    }
}
