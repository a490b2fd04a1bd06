import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

@Suite struct LockSetTests {
    @Test func theLocksAreTakenInTheOrderOfTheirResolvedPathsWhateverOrderTheyAreGivenIn() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path("sub").string, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.path("link").string, withDestinationPath: dir.path("sub").string)
        let set = try LockSet([dir.path("link/b.lock"), dir.path("sub/a.lock"), dir.path("sub/../sub/b.lock")])
        let sub = try #require(realpath(dir.path("sub").string, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) })
        // The link and the `..` name the same file as sub/b.lock: one lock, not two.
        #expect(set.paths == [FilePath(sub).appending("a.lock"), FilePath(sub).appending("b.lock")])
    }

    /// Two processes take crossing sets [a, b] and [b, a] hundreds of times, each holding its set a
    /// moment: taken in the given order, one would soon hold a and wait for b while the other holds b
    /// and waits for a, for ever.
    @Test func twoProcessesLockingCrossingSetsNeverDeadlock() throws {
        let dir = try TemporaryDirectory()
        let a = dir.path("a.lock").string, b = dir.path("b.lock").string
        let first = try ChildProcess.helper("hold-lock-set", a, b, "--rounds", "300", "--hold", "0.001")
        let second = try ChildProcess.helper("hold-lock-set", b, a, "--rounds", "300", "--hold", "0.001")
        defer {
            for child in [first, second] where child.isRunning { child.signal(SIGKILL) }
        }
        #expect(try first.wait(timeout: .seconds(60)) == 0, "\(first.lines.suffix(3)) \(first.standardError)")
        #expect(try second.wait(timeout: .seconds(60)) == 0, "\(second.lines.suffix(3)) \(second.standardError)")
        #expect(first.lines.last == "done" && second.lines.last == "done")
    }

    @Test func aTimeoutNamesTheLockAndItsHolderAndLeavesNoneOfTheSetHeld() async throws {
        let dir = try TemporaryDirectory()
        let holder = try ChildProcess.helper("hold-lock", dir.path("b.lock").string)
        defer { holder.signal(SIGKILL) }
        try await holder.waitForLine("locked")

        let set = try LockSet([dir.path("b.lock"), dir.path("a.lock")])
        let started = ContinuousClock.now
        let error = await #expect(throws: LockError.self) { try await set.lock(.exclusive, timeout: .milliseconds(300)) }
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(error?.code == .timedOut)
        #expect(error?.path.lastComponent?.string == "b.lock")
        #expect(error?.holder?.pid == holder.pid)
        #expect(!set.isHeld)
        // a.lock, taken first, was released: another instance (as exclusive as another process) gets it.
        try FileLock(dir.path("a.lock")).tryLock(.exclusive)

        // Another process's set gives up the same way, naming the lock and its holder.
        let blocked = try ChildProcess.helper("hold-lock-set", dir.path("a.lock").string, dir.path("b.lock").string, "--timeout", "0.3")
        #expect(try await blocked.wait() == ExitStatus.tempFail)
        #expect(blocked.lines.first?.contains("b.lock") == true && blocked.lines.first?.contains("pid \(holder.pid)") == true, "\(blocked.lines)")
    }

    @Test func theWholeSetIsHeldUntilUnlockedAndThenFreeForOthers() async throws {
        let dir = try TemporaryDirectory()
        let set = try LockSet(guarding: [dir.path("x.json"), dir.path("y.json")])
        try await set.lock(.exclusive)
        #expect(set.isHeld)
        for name in ["x.json.lock", "y.json.lock"] {
            #expect(throws: LockError.self) { try FileLock(dir.path(name)).tryLock(.exclusive) }
        }
        set.unlock()
        #expect(!set.isHeld)
        let other = try ChildProcess.helper("hold-lock-set", dir.path("y.json.lock").string, dir.path("x.json.lock").string)
        #expect(try await other.wait() == 0)
    }
}
