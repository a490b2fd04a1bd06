import BurgCore
import Foundation

/// Time as the queue sees it, in seconds since 1970; injectable so retry and timeout tests need no sleeping.
public struct JobClock: Sendable {
    public var now: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Double) {
        self.now = now
    }

    public static let system = JobClock { Date().timeIntervalSince1970 }
}

/// Exponential backoff with jitter: attempt n waits `base · 2^(n-1)`, capped, ± 25 %.
public struct RetryBackoff: Sendable, Equatable {
    public var base: Duration = .seconds(2)
    public var cap: Duration = .seconds(3600)
    public var jitter: Double = 0.25

    public init() {}

    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0...1)) -> Double {
        let exponential = min(cap.seconds, base.seconds * pow(2, Double(max(0, attempt - 1))))
        return exponential * (1 - jitter + 2 * jitter * random)
    }
}
