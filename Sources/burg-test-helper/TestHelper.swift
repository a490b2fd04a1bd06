import ArgumentParser

/// Child processes for Burg's multi-process and crash tests. Each subcommand prints the lines the tests
/// wait for ("locked", "wrote 3", ...) and flushes them at once.
@main
struct TestHelper: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burg-test-helper",
        abstract: "Processes started by Burg's tests; not for users.",
        subcommands: [
            HoldLock.self, HoldLockSet.self, TryLock.self, LockTiming.self, IncrementCounter.self, WriteLoop.self, WriteLarge.self, AtomicWriteOnce.self,
            StoreIncrement.self, StoreWriterLoop.self, StoreHoldSnapshot.self,
            BenchCount.self, AccountTransfers.self, JobSchedulerTick.self, LogLines.self,
        ]
    )
}
