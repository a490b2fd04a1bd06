import BurgCore
import Testing

/// The wake-up between a writer and an in-process reader of what it wrote: a signal wakes every
/// waiter, one that came before the wait is not lost, and a wait without one ends at its timeout.
@Suite struct CommitSignalTests {
    @Test func aSignalWakesEveryWaiterAndOneBeforeTheWaitIsNotLost() async throws {
        let signal = CommitSignal()
        let seen = signal.generation
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { await signal.wait(after: seen, timeout: .seconds(60)) } }
            try? await Task.sleep(for: .milliseconds(50))
            signal.signal()
            await group.waitForAll()
        }
        #expect(ContinuousClock.now - start < .seconds(30))
        // Signalled since `seen`: returns at once.
        let again = ContinuousClock.now
        await signal.wait(after: seen, timeout: .seconds(60))
        #expect(ContinuousClock.now - again < .seconds(30))
        #expect(signal.generation == seen + 1)
    }

    @Test func withoutASignalTheWaitEndsAtItsTimeoutOrWhenCancelled() async throws {
        let signal = CommitSignal()
        let start = ContinuousClock.now
        await signal.wait(after: signal.generation, timeout: .milliseconds(100))
        #expect(ContinuousClock.now - start >= .milliseconds(100))
        let waiter = Task { await signal.wait(after: signal.generation, timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        let cancelled = ContinuousClock.now
        await waiter.value
        #expect(ContinuousClock.now - cancelled < .seconds(30))
    }
}
