import BurgCore
import Testing

/// The wake-up between a writer and an in-process reader of what it wrote: a signal wakes every
/// waiter, one that came before the wait is not lost, and a wait without one ends at its timeout.
/// What ended a wait is its result, not a measured time, so a loaded machine cannot fail these.
@Suite struct CommitSignalTests {
    @Test func aSignalWakesEveryWaiterAndOneBeforeTheWaitIsNotLost() async throws {
        let signal = CommitSignal()
        let seen = signal.generation
        let woken = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<3 { group.addTask { await signal.wait(after: seen, timeout: .seconds(600)) } }
            try? await Task.sleep(for: .milliseconds(50))
            signal.signal()
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(woken == [true, true, true])
        // Signalled since `seen`: a wait that starts now returns at once, as woken.
        #expect(await signal.wait(after: seen, timeout: .seconds(600)))
        #expect(signal.generation == seen + 1)
    }

    @Test func withoutASignalTheWaitEndsAtItsTimeoutOrWhenCancelled() async throws {
        let signal = CommitSignal()
        let start = ContinuousClock.now
        #expect(await signal.wait(after: signal.generation, timeout: .milliseconds(100)) == false)
        #expect(ContinuousClock.now - start >= .milliseconds(100))
        let waiter = Task { await signal.wait(after: signal.generation, timeout: .seconds(600)) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        #expect(await waiter.value == false)
    }
}
