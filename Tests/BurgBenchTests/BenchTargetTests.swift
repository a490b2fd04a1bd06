import BurgBench
import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

@Suite struct BenchTargetTests {
    @Test(arguments: ["/", "/etc", "/usr/lib", "/proc", "/sys/kernel", "/boot", "/var/lib", "/dev"])
    func systemDirectoriesAreRefused(path: String) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        #expect {
            try BenchTarget.acquire(FilePath(path), configuration: BenchConfiguration(), bytesNeeded: 1 << 20, allowCached: true)
        } throws: { error in
            guard let error = error as? BenchError else { return false }
            return error.code == .systemDirectory && error.exitCode == ExitStatus.noPermission
                && error.description.contains("system directory")
        }
        #expect(!FileManager.default.fileExists(atPath: path + "/.burg-bench.lock"))
    }

    @Test func aSymlinkIntoASystemDirectoryIsResolvedAndRefused() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: dir.path("innocent").string, withDestinationPath: "/etc")
        #expect {
            try BenchTarget.acquire(dir.path("innocent"), configuration: BenchConfiguration(), bytesNeeded: 1 << 20, allowCached: false)
        } throws: { error in
            (error as? BenchError)?.code == .systemDirectory && "\(error)".contains("/etc")
        }
    }

    @Test func aTargetOutsideTheAllowListIsRefused() throws {
        let allowed = try TemporaryDirectory()
        let other = try TemporaryDirectory()
        var configuration = BenchConfiguration()
        configuration.allowedTargets = [allowed.path]
        #expect {
            try BenchTarget.acquire(other.path, configuration: configuration, bytesNeeded: 1 << 20, allowCached: false)
        } throws: { error in (error as? BenchError)?.code == .notAllowed }
        try FileManager.default.createDirectory(atPath: allowed.path("sub").string, withIntermediateDirectories: false)
        let target = try BenchTarget.acquire(allowed.path("sub"), configuration: configuration, bytesNeeded: 1 << 20, allowCached: false)
        target.release()
    }

    @Test func tooLittleFreeSpaceIsRefusedBeforeAnythingIsWritten() throws {
        let dir = try TemporaryDirectory()
        let free = try FileSystemInfo.of(dir.path).availableBytes
        #expect {
            try BenchTarget.acquire(dir.path, configuration: BenchConfiguration(), bytesNeeded: free, allowCached: false)
        } throws: { error in
            guard let error = error as? BenchError else { return false }
            return error.code == .insufficientSpace && error.exitCode == ExitStatus.cantCreate
                && error.description.contains("too little free space")
        }
        #expect(testFiles(in: dir.path).isEmpty)
        // The refusal released the lock: the next attempt with a fitting size succeeds.
        let target = try BenchTarget.acquire(dir.path, configuration: BenchConfiguration(), bytesNeeded: 1 << 20, allowCached: false)
        target.release()
    }

    @Test(.enabled(if: (try? FileSystemInfo.of("/dev/shm"))?.isMemoryBacked == true, "no tmpfs at /dev/shm"))
    func tmpfsIsRefusedWithoutAllowCachedAndMarkedCachedWithIt() throws {
        let dir = try TmpfsDirectory()
        #expect {
            try BenchRunner().run(quickSettings(dir.path))
        } throws: { error in
            guard let error = error as? BenchError else { return false }
            return error.code == .cachedOnly && error.exitCode == ExitStatus.unavailable
                && error.description.contains("--allow-cached")
        }
        var settings = quickSettings(dir.path)
        settings.allowCached = true
        let run = try BenchRunner().run(settings)
        #expect(run.cached)
        #expect(run.results.allSatisfy { $0.cached })
        #expect(BenchReport.table(run).contains("CACHED"))
        #expect(testFiles(in: dir.path).isEmpty)
    }

    @Test func aSecondRunOnTheSameTargetIsRefusedNamingTheFirst() throws {
        let dir = try TemporaryDirectory()
        let first = try BenchTarget.acquire(dir.path, configuration: BenchConfiguration(), bytesNeeded: 1 << 20, allowCached: false)
        defer { first.release() }
        #expect {
            try BenchRunner().run(quickSettings(dir.path))
        } throws: { error in
            guard let error = error as? BenchError else { return false }
            return error.code == .alreadyRunning && error.exitCode == ExitStatus.tempFail
                && error.description.contains("a benchmark is already running on \(dir.path)")
                && error.description.contains("pid \(getpid())")
        }
    }

    @Test func testFilesArePreFilledWithIncompressibleDataSoReadsNeverHitHoles() throws {
        let dir = try TemporaryDirectory()
        let target = try BenchTarget.acquire(dir.path, configuration: BenchConfiguration(), bytesNeeded: 8 << 20, allowCached: false)
        defer { target.removeTestFiles(); target.release() }
        let file = try target.makeTestFile("probe", size: 8 << 20)
        var status = stat()
        #expect(stat(file.string, &status) == 0)
        #expect(status.st_size == 8 << 20)
        // Every byte allocated on disk: no holes.
        #expect(Int(status.st_blocks) * 512 >= 8 << 20)
        let data = try Data(contentsOf: URL(fileURLWithPath: file.string))
        // No two 4 KiB blocks alike (nothing for deduplicating storage to find).
        let blocks = stride(from: 0, to: data.count, by: 4096).map { data[$0..<($0 + 4096)] }
        #expect(Set(blocks).count == blocks.count, "repeated 4 KiB blocks")
        // Random bytes: every byte value about equally often (zeros or text would be far off).
        var counts = [Int](repeating: 0, count: 256)
        for byte in data.prefix(1 << 20) { counts[Int(byte)] += 1 }
        #expect(counts.max()! < 4096 + 600 && counts.min()! > 4096 - 600)
    }

    @Test func leftoversOfACrashedRunAreRemovedByTheNext() throws {
        let dir = try TemporaryDirectory()
        let leftover = dir.path(BenchTarget.testFilePrefix + "99999-cdm")
        try makeFile(leftover, size: 4096)
        try makeFile(dir.path("unrelated"), size: 10)
        let run = try BenchRunner().run(quickSettings(dir.path))
        #expect(run.results.count == 1)
        #expect(testFiles(in: dir.path).isEmpty)
        #expect(FileManager.default.fileExists(atPath: dir.path("unrelated").string))
    }

    @Test func testFilesAreRemovedWhenARunFails() throws {
        let dir = try TemporaryDirectory()
        var settings = quickSettings(dir.path)
        settings.engines = [.native, .fio]
        settings.only = ["RND4K Q1T1 read"]
        var configuration = BenchConfiguration()
        // A "fio" that always fails: the run fails after the native workload wrote its test file.
        let fake = dir.path("fio-that-fails")
        try Data("#!/bin/sh\nexit 3\n".utf8).write(to: URL(fileURLWithPath: fake.string))
        chmod(fake.string, 0o755)
        configuration.fioPath = fake
        #expect(throws: BenchError.self) { try BenchRunner(configuration: configuration).run(settings) }
        #expect(testFiles(in: dir.path).isEmpty)
    }
}

/// A temporary directory on tmpfs (/dev/shm), removed when released. (TemporaryDirectory uses TMPDIR,
/// which tests running in parallel must not change.)
final class TmpfsDirectory: Sendable {
    let path: FilePath
    init() throws {
        var template = Array("/dev/shm/burg-bench-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = FilePath(String(cString: made))
    }
    deinit { try? FileManager.default.removeItem(atPath: path.string) }
}
