import BurgAuth
import Synchronization
import Testing

@Suite struct RateLimiterTests {
    final class Clock: Sendable {
        let seconds = Mutex(100.0)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
    }

    @Test func aKeyGetsItsBurstThenWaitsForTheRefillWhileOtherKeysAreUnaffected() {
        let clock = Clock()
        let limiter = RateLimiter(capacity: 3, refillPerSecond: 2, now: { clock.seconds.withLock { $0 } })
        #expect((0..<3).map { _ in limiter.take("10.0.0.1") } == [.allowed, .allowed, .allowed])
        #expect(limiter.take("10.0.0.1") == .limited(retryAfter: .milliseconds(500)))
        #expect(limiter.take("10.0.0.2") == .allowed)
        clock.advance(0.25)
        #expect(limiter.take("10.0.0.1") == .limited(retryAfter: .milliseconds(250)))
        clock.advance(0.25)
        #expect(limiter.take("10.0.0.1") == .allowed)
        #expect(limiter.take("10.0.0.1") != .allowed)
        clock.advance(60)
        #expect((0..<4).map { _ in limiter.take("10.0.0.1") } == [.allowed, .allowed, .allowed, .limited(retryAfter: .milliseconds(500))])
    }

    @Test func manyDistinctKeysKeepMemoryBounded() {
        let clock = Clock()
        let limiter = RateLimiter(capacity: 2, refillPerSecond: 1, maxKeys: 1000, now: { clock.seconds.withLock { $0 } })
        for index in 0..<10_000 {
            _ = limiter.take("key-\(index)")
            clock.advance(0.001)
        }
        #expect(limiter.trackedKeys <= 1000)
        // A key that is actively limited is not forgotten by eviction.
        _ = limiter.take("busy")
        _ = limiter.take("busy")
        #expect(limiter.take("busy") != .allowed)
    }
}
