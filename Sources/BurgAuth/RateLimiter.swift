import Foundation
import Synchronization

/// What a rate limiter decided for one request.
public enum RateLimitDecision: Sendable, Equatable {
    case allowed
    /// Refused; a token will be available after `retryAfter`.
    case limited(retryAfter: Duration)
}

/// Token buckets per key (a client address, a token): each key may make `capacity` requests at once and
/// `refillPerSecond` on average after that. In memory, per process; thread-safe.
///
/// Memory is bounded: when more than `maxKeys` keys are tracked, buckets that have refilled completely
/// (idle keys, indistinguishable from new ones) are dropped first.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    public let capacity: Double
    public let refillPerSecond: Double
    private let maxKeys: Int
    private let now: @Sendable () -> Double
    private let buckets = Mutex<[String: Bucket]>([:])

    /// - Parameter now: seconds on a monotonic clock; injectable for tests.
    public init(
        capacity: Int, refillPerSecond: Double, maxKeys: Int = 100_000,
        now: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    ) {
        precondition(capacity >= 1 && refillPerSecond > 0, "a rate limit needs capacity ≥ 1 and a positive refill rate")
        self.capacity = Double(capacity)
        self.refillPerSecond = refillPerSecond
        self.maxKeys = maxKeys
        self.now = now
    }

    /// Takes a token for `key` if one is available.
    public func take(_ key: String) -> RateLimitDecision {
        let time = now()
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: time)
            bucket.tokens = min(capacity, bucket.tokens + (time - bucket.updated) * refillPerSecond)
            bucket.updated = time
            let decision: RateLimitDecision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = .allowed
            } else {
                let wait = (1 - bucket.tokens) / refillPerSecond
                decision = .limited(retryAfter: .milliseconds(Int64((wait * 1000).rounded(.up))))
            }
            buckets[key] = bucket
            if buckets.count > maxKeys { evict(&buckets, at: time) }
            return decision
        }
    }

    /// How many keys are tracked.
    public var trackedKeys: Int { buckets.withLock { $0.count } }

    private func evict(_ buckets: inout [String: Bucket], at time: Double) {
        buckets = buckets.filter { $0.value.tokens + (time - $0.value.updated) * refillPerSecond < capacity }
        if buckets.count > maxKeys {
            // Still too many active keys: keep the most recently used half.
            let keep = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(maxKeys / 2)
            buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }
}
