import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

@Suite struct AtomicFileTests {
    @Test func eightProcessesIncrementingOneCounterLoseNoUpdate() throws {
        let dir = try TemporaryDirectory()
        let counter = dir.path("counter")
        let workers = try (0..<8).map { _ in try ChildProcess.helper("increment", counter.string, "--count", "500") }
        for worker in workers {
            #expect(try worker.wait(timeout: .seconds(300)) == 0, "\(worker.standardError)")
        }
        let value = try #require(try AtomicFile.read(counter))
        #expect(String(decoding: value, as: UTF8.self) == "4000")
        #expect(try leftovers(in: dir, of: "counter").isEmpty)
    }

    @Test func killNineMidWriteLeavesTheTargetWholeAndTheNextWriteCleansUp() throws {
        let dir = try TemporaryDirectory()
        let target = dir.path("data.bin")
        let rounds = ProcessInfo.processInfo.environment["BURG_SOAK"] == "1" ? 500 : 50
        var killedMidWrite = 0
        var lastSeen: UInt64 = 0
        for round in 0..<rounds {
            let writer = try ChildProcess.helper(
                "write-loop", target.string, "--megabytes", "4", "--start", "\(round * 1000 + 1)")
            try writer.waitForLine("ready")
            if round == 0 { try writer.waitForLine("wrote 1") }  // so that a target exists from now on
            usleep(UInt32.random(in: 0...150_000))
            writer.signal(SIGKILL)
            #expect(try writer.wait() == 128 + SIGKILL)

            let bytes = try #require(try AtomicFile.read(target), "target vanished in round \(round)")
            let sequence = try #require(ChecksummedContent.verify(bytes), "torn file after kill in round \(round)")
            #expect(sequence >= lastSeen)
            lastSeen = sequence
            if !(try leftovers(in: dir, of: "data.bin").isEmpty) { killedMidWrite += 1 }
        }
        // The kills really landed inside writes, and the next write removes what they left.
        #expect(killedMidWrite > 0)
        try AtomicFile.write([UInt8](repeating: 1, count: 16), to: target)
        #expect(try leftovers(in: dir, of: "data.bin").isEmpty)
    }

    @Test func writeReplacesTheTargetAndKeepsTheOldVersionAsBackup() throws {
        let dir = try TemporaryDirectory()
        let target = dir.path("config.json")
        var options = AtomicFile.Options()
        options.keepBackup = true
        try AtomicFile.write(Array("v1".utf8), to: target, options: options)
        #expect(!FileManager.default.fileExists(atPath: target.string + ".backup"))
        try AtomicFile.write(Array("v2".utf8), to: target, options: options)
        try AtomicFile.write(Array("v3".utf8), to: target, options: options)
        #expect(try AtomicFile.read(target) == Array("v3".utf8))
        #expect(try AtomicFile.read(FilePath(target.string + ".backup")) == Array("v2".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path.string).sorted()
            == ["config.json", "config.json.backup"])
    }

    @Test func newFilesAre0600AndReplacedFilesKeepTheirPermissions() throws {
        let dir = try TemporaryDirectory()
        let target = dir.path("f")
        try AtomicFile.write([1], to: target)
        #expect(try permissions(target) == 0o600)
        chmod(target.string, 0o640)
        try AtomicFile.write([2], to: target)
        #expect(try permissions(target) == 0o640)
        var options = AtomicFile.Options()
        options.permissions = [.ownerReadWrite, .groupRead, .otherRead]
        try AtomicFile.write([3], to: target, options: options)
        #expect(try permissions(target) == 0o644)
    }

    @Test func aFailingProducerLeavesTheTargetUnchangedAndNoTemporaryFile() throws {
        struct Boom: Error {}
        let dir = try TemporaryDirectory()
        let target = dir.path("f")
        try AtomicFile.write(Array("old".utf8), to: target)
        #expect(throws: Boom.self) {
            try AtomicFile.write(to: target) { writer in
                try writer.write(Array("new and half".utf8))
                throw Boom()
            }
        }
        #expect(try AtomicFile.read(target) == Array("old".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path.string) == ["f"])
    }

    @Test func streamingAFileLargerThanMemoryBudgetKeepsMemoryFlat() throws {
        let dir = try TemporaryDirectory()
        let target = dir.path("big")
        let writer = try ChildProcess.helper("write-large", target.string, "--megabytes", "128")
        #expect(try writer.wait(timeout: .seconds(120)) == 0, "\(writer.standardError)")
        let line = try #require(writer.lines.first { $0.hasPrefix("maxrss-kb ") })
        let kilobytes = try #require(Int(line.dropFirst("maxrss-kb ".count)))
        #expect(kilobytes < 64 * 1024, "writing 128 MB peaked at \(kilobytes) KiB resident")
        let size = try FileManager.default.attributesOfItem(atPath: target.string)[.size] as? Int
        #expect(size == 128 << 20)
        #expect(ChecksummedContent.verify(try #require(try AtomicFile.read(target))) == 1)
    }

    @Test func leftoversOfDeadWritersAreRemovedAndThoseOfLiveWritersKept() throws {
        let dir = try TemporaryDirectory()
        let dead = try ChildProcess.helper("try-lock", dir.path("x.lock").string)
        try dead.wait()
        let deadTemp = dir.path(".f\(AtomicFile.temporaryMarker)\(dead.pid)-abc")
        let liveTemp = dir.path(".f\(AtomicFile.temporaryMarker)\(getpid())-def")
        for path in [deadTemp, liveTemp] {
            #expect(FileManager.default.createFile(atPath: path.string, contents: Data([0])))
        }
        try AtomicFile.write([9], to: dir.path("f"))
        #expect(!FileManager.default.fileExists(atPath: deadTemp.string))
        #expect(FileManager.default.fileExists(atPath: liveTemp.string))
    }

    // MARK: Bad input: a typed error naming the path, a hint, and nothing left behind.

    @Test func aMissingDirectoryIsATypedErrorAndCreatesNothing() throws {
        let dir = try TemporaryDirectory()
        let target = dir.path("missing/f")
        let error = try #require(throws: AtomicFileError.self) { try AtomicFile.write([1], to: target) }
        #expect(error.code == .directoryMissing)
        #expect(error.description.contains(target.string))
        #expect(error.description.contains("does not exist"))
        #expect(error.exitCode == ExitStatus.noInput)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path.string).isEmpty)
    }

    @Test func aDirectoryAsTargetIsATypedErrorAndChangesNothing() throws {
        let dir = try TemporaryDirectory()
        let target = dir.path("sub")
        try FileManager.default.createDirectory(atPath: target.string, withIntermediateDirectories: false)
        let error = try #require(throws: AtomicFileError.self) { try AtomicFile.write([1], to: target) }
        #expect(error.code == .targetIsDirectory)
        #expect(error.description.contains(target.string))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path.string) == ["sub"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.string).isEmpty)
    }

    @Test(.enabled(if: geteuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func noPermissionIsATypedErrorAndLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        let locked = dir.path("locked")
        try FileManager.default.createDirectory(atPath: locked.string, withIntermediateDirectories: false)
        chmod(dir.path.string, 0o755)
        try AtomicFile.write(Array("old".utf8), to: locked.appending("f"))
        chmod(locked.string, 0o555)
        // Root ignores permissions, so as root the write runs in a child process as user nobody.
        let child = try unprivileged("atomic-write", locked.appending("f").string)
        #expect(try child.wait() == ExitStatus.noPermission)
        let line = child.lines.joined()
        #expect(line.contains("permission denied"))
        #expect(line.contains(locked.appending("f").string))
        #expect(try AtomicFile.read(locked.appending("f")) == Array("old".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: locked.string) == ["f"])
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")))
    func aReadOnlyFileSystemIsATypedErrorAndLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        let mountPoint = dir.path("ro")
        try FileManager.default.createDirectory(atPath: mountPoint.string, withIntermediateDirectories: false)
        // A private mount namespace with a read-only tmpfs: nothing outside this child sees the mount.
        let script = """
            mount -t tmpfs -o size=1m tmpfs "$1" && echo old > "$1/f" && mount -o remount,ro "$1" \
            && exec "$2" atomic-write "$1/f"
            """
        let child = try ChildProcess(
            "/usr/bin/unshare",
            ["--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", mountPoint.string,
             BuiltProducts.testHelper.string])
        let status = try child.wait()
        let output = child.lines.joined()
        #expect(status == ExitStatus.cantCreate, "\(output) \(child.standardError)")
        #expect(output.contains("read-only"))
        #expect(output.contains(mountPoint.appending("f").string))
    }
}

/// Temporary files of writes to `name` in `dir`.
func leftovers(in dir: TemporaryDirectory, of name: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path.string)
        .filter { $0.hasPrefix(".\(name)\(AtomicFile.temporaryMarker)") }
}

func permissions(_ path: FilePath) throws -> UInt16 {
    var status = stat()
    guard stat(path.string, &status) == 0 else { throw POSIXError(.ENOENT) }
    return UInt16(status.st_mode & 0o7777)
}

/// Runs the test helper as an unprivileged user: `nobody` via setpriv when running as root, else as is.
func unprivileged(_ arguments: String...) throws -> ChildProcess {
    if geteuid() == 0 {
        return try ChildProcess(
            "/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", BuiltProducts.testHelper.string] + arguments)
    }
    return try ChildProcess(BuiltProducts.testHelper, arguments)
}
