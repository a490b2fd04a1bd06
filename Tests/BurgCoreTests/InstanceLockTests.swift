import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

@Suite struct InstanceLockTests {
    @Test func aSecondServeOnTheSameDataDirIsRefusedAndTheFirstKeepsRunning() throws {
        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data").string
        let first = try ChildProcess.burg("serve", "--http", "127.0.0.1:0", "--data-dir", dataDir)
        let holder = try waitForHolder(dataDir: FilePath(dataDir), process: first)
        #expect(holder.pid == first.pid)

        let second = try ChildProcess.burg("serve", "--http", "127.0.0.1:0", "--data-dir", dataDir)
        #expect(try second.wait(timeout: .seconds(30)) == ExitStatus.tempFail)
        #expect(second.standardError.contains("Burg is already running on \(dataDir) (pid \(first.pid), since "))
        #expect(first.isRunning)
        #expect(InstanceLock.currentHolder(dataDir: FilePath(dataDir))?.pid == first.pid)

        first.signal(SIGTERM)
        #expect(try first.wait(timeout: .seconds(30)) == 0, "\(first.standardError)")
        #expect(InstanceLock.currentHolder(dataDir: FilePath(dataDir)) == nil)
    }

    @Test func afterKillNineANewServeStartsAtOnce() throws {
        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data").string
        let first = try ChildProcess.burg("serve", "--http", "127.0.0.1:0", "--data-dir", dataDir)
        _ = try waitForHolder(dataDir: FilePath(dataDir), process: first)
        first.signal(SIGKILL)
        try first.wait()
        let next = try ChildProcess.burg("serve", "--http", "127.0.0.1:0", "--data-dir", dataDir)
        defer { next.signal(SIGKILL) }  // never outlive the test
        #expect(try waitForHolder(dataDir: FilePath(dataDir), process: next).pid == next.pid)
        next.signal(SIGTERM)
        #expect(try next.wait(timeout: .seconds(30)) == 0)
    }

    /// `burg serve`, `burg db health` and the restore ask who holds a data directory; a server starting
    /// at that moment must not be refused because of the question (it once was: the probe took the lock).
    @Test func askingWhoHoldsTheDirectoryNeverMakesAStartingServerRefuse() throws {
        let dir = try TemporaryDirectory()
        let asking = Thread { while !Thread.current.isCancelled { _ = InstanceLock.currentHolder(dataDir: dir.path) } }
        asking.start()
        defer { asking.cancel() }
        var refusals = 0
        for _ in 0..<2_000 {
            do {
                let lock = try InstanceLock.acquire(dataDir: dir.path)
                lock.release()
            } catch {
                refusals += 1
            }
        }
        #expect(refusals == 0, "\(refusals) of 2000 acquisitions refused while another thread only asked")
        // The question still has the right answer while the directory is held.
        let held = try InstanceLock.acquire(dataDir: dir.path)
        #expect(InstanceLock.currentHolder(dataDir: dir.path)?.pid == getpid())
        held.release()
        #expect(InstanceLock.currentHolder(dataDir: dir.path) == nil)
    }

    @Test func inProcessAcquireNamesTheHolderAndReleases() throws {
        let dir = try TemporaryDirectory()
        let lock = try InstanceLock.acquire(dataDir: dir.path)
        // A second acquisition, even in this process, is refused: one owner per data directory.
        let error = try #require(throws: InstanceLockError.self) { try InstanceLock.acquire(dataDir: dir.path) }
        #expect(error.code == .alreadyRunning)
        #expect(error.holder?.pid == getpid())
        #expect(error.exitCode == ExitStatus.tempFail)
        lock.release()
        _ = try InstanceLock.acquire(dataDir: dir.path)
    }

    @Test func serveRefusesADataDirThatIsAFileWithATypedError() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("not-a-dir")
        #expect(FileManager.default.createFile(atPath: file.string, contents: Data("x".utf8)))
        let serve = try ChildProcess.burg("serve", "--http", "127.0.0.1:0", "--data-dir", file.string)
        #expect(try serve.wait() != 0)
        #expect(serve.standardError.contains(file.string))
        #expect(try AtomicFile.read(file) == Array("x".utf8))
    }
}

/// Waits until `process` holds the instance lock of `dataDir`.
func waitForHolder(dataDir: FilePath, process: ChildProcess) throws -> LockHolder {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if let holder = InstanceLock.currentHolder(dataDir: dataDir), holder.pid == process.pid { return holder }
        if !process.isRunning {
            throw ChildProcess.Failure(description: "burg serve ended early: \(process.standardError)")
        }
        usleep(20_000)
    }
    throw ChildProcess.Failure(description: "burg serve did not take \(dataDir): \(process.standardError)")
}
