import BurgCore
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory that passed every safety check and is held for one benchmark run.
///
/// Guarantees, once ``acquire(_:configuration:bytesNeeded:allowCached:)`` returned:
/// - the path is absolute with symlinks resolved, is no system directory, is inside the allow-list when
///   one is configured, is writable, and had at least `bytesNeeded` + margin free;
/// - this process holds the target's exclusive lock (`.burg-bench.lock` inside it), so no other benchmark
///   runs there; leftovers of earlier, crashed runs have been removed;
/// - every test file made with ``makeTestFile(_:size:)`` is removed by ``removeTestFiles()``, which the
///   runner calls on success, failure and SIGINT.
public final class BenchTarget: Sendable {
    /// The resolved directory.
    public let directory: FilePath
    public let fileSystem: FileSystemInfo
    /// True when direct I/O is impossible (tmpfs) and the run was allowed with `--allow-cached`.
    public let cached: Bool
    private let lock: FileLock

    /// Prefix of every test file; files with it are this module's and removed without asking.
    public static let testFilePrefix = ".burg-bench-"
    static let lockName = ".burg-bench.lock"

    /// Directories no benchmark may write into (or under, for the ones marked recursive).
    static let systemDirectories: [(path: String, recursive: Bool)] = [
        ("/", false), ("/bin", true), ("/boot", true), ("/dev", true), ("/etc", true), ("/lib", true),
        ("/lib32", true), ("/lib64", true), ("/libx32", true), ("/proc", true), ("/run", true), ("/sbin", true),
        ("/sys", true), ("/usr", true), ("/var", false), ("/var/lib", true), ("/var/log", true),
        ("/var/cache", true), ("/var/spool", true), ("/root", false), ("/home", false), ("/System", true),
        ("/Library", true), ("/private/etc", true), ("/private/var/db", true),
    ]

    /// Free space kept beyond the test files: 256 MiB or 5 % of the file system, whichever is more.
    static func margin(totalBytes: UInt64) -> UInt64 { max(256 << 20, totalBytes / 20) }

    private init(directory: FilePath, fileSystem: FileSystemInfo, cached: Bool, lock: FileLock) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.cached = cached
        self.lock = lock
    }

    /// Resolves `path` (symlinks, `..`) to an absolute path; throws `.noTarget` when it is no directory.
    public static func resolve(_ path: FilePath) throws(BenchError) -> FilePath {
        guard let resolved = path.withPlatformString({ realpath($0, nil) }) else {
            throw BenchError(.noTarget, subject: path.string, detail: String(cString: strerror(errno)))
        }
        defer { free(resolved) }
        let result = FilePath(String(cString: resolved))
        var status = stat()
        guard stat(resolved, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
            throw BenchError(.noTarget, subject: path.string, detail: "not a directory")
        }
        return result
    }

    /// Checks the target and takes its lock; see the type's guarantees. Throws ``BenchError`` and changes
    /// nothing when a check fails.
    public static func acquire(
        _ path: FilePath, configuration: BenchConfiguration, bytesNeeded: UInt64, allowCached: Bool
    ) throws(BenchError) -> BenchTarget {
        let directory = try resolve(path)
        // /dev/shm is the usual tmpfs scratch space (refused later unless cached runs are allowed).
        let scratch = directory.starts(with: "/dev/shm") && directory != "/dev/shm"
        if !scratch, let system = systemDirectories.first(where: { entry in
            directory.string == entry.path || (entry.recursive && directory.starts(with: FilePath(entry.path)))
        }) {
            throw BenchError(.systemDirectory, subject: directory.string, detail: system.path)
        }
        if !configuration.allowedTargets.isEmpty {
            let allowed = configuration.allowedTargets.map { (try? resolve($0)) ?? $0 }
            guard allowed.contains(where: { directory.starts(with: $0) }) else {
                throw BenchError(
                    .notAllowed, subject: directory.string,
                    detail: "allowed: " + allowed.map(\.string).joined(separator: ", "))
            }
        }
        guard directory.withPlatformString({ access($0, W_OK | X_OK) }) == 0 else {
            throw BenchError(.notWritable, subject: directory.string, detail: String(cString: strerror(errno)))
        }
        let fileSystem: FileSystemInfo
        do {
            fileSystem = try FileSystemInfo.of(directory)
        } catch {
            throw BenchError(.io, subject: directory.string, detail: error.description)
        }
        if fileSystem.isMemoryBacked && !allowCached {
            throw BenchError(.cachedOnly, subject: directory.string, detail: "\(fileSystem.typeName) keeps files in memory")
        }
        // Nothing Burg opens in the target may be a symbolic link: a planted one would point the lock or
        // the test I/O at another file. Checked before anything is created; O_NOFOLLOW closes the race.
        for path in [directory.appending(lockName)] + testFiles(in: directory) {
            try refuseSymbolicLink(path, in: directory)
        }
        let lock: FileLock
        do {
            var options = FileLock.Options()
            options.refuseSymbolicLink = true
            lock = try FileLock(directory.appending(lockName), options: options)
            try lock.tryLock(.exclusive)
        } catch where error.code == .wouldBlock {
            throw BenchError(.alreadyRunning, subject: directory.string, holder: error.holder)
        } catch where error.underlying?.errno == ELOOP {
            throw BenchError(.symbolicLink, subject: directory.appending(lockName).string)
        } catch {
            throw BenchError(.io, subject: directory.string, detail: error.description)
        }
        // Under the lock no other run is active: every test file present is a crashed run's leftover.
        // Removed before the space check, since they count against free space.
        removeLeftovers(in: directory)
        let available = (try? FileSystemInfo.of(directory).availableBytes) ?? fileSystem.availableBytes
        let needed = bytesNeeded + margin(totalBytes: fileSystem.totalBytes)
        guard available >= needed else {
            lock.unlock()
            throw BenchError(
                .insufficientSpace, subject: directory.string,
                detail: "needs \(formatBytes(needed)) (test files \(formatBytes(bytesNeeded)) + margin), \(formatBytes(available)) free")
        }
        return BenchTarget(directory: directory, fileSystem: fileSystem, cached: fileSystem.isMemoryBacked, lock: lock)
    }

    /// Throws `.symbolicLink` when `path` is a symbolic link (or anything but a regular file); nothing
    /// there is fine.
    static func refuseSymbolicLink(_ path: FilePath, in directory: FilePath) throws(BenchError) {
        var status = stat()
        guard path.withPlatformString({ lstat($0, &status) }) == 0 else { return }
        let type = status.st_mode & S_IFMT
        if type == S_IFLNK {
            throw BenchError(.symbolicLink, subject: path.string)
        }
        if type != S_IFREG {
            throw BenchError(.symbolicLink, subject: path.string, detail: "not a regular file")
        }
    }

    /// The test files currently in `directory` (this module's prefix).
    public static func testFiles(in directory: FilePath) -> [FilePath] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.string)) ?? []
        return names.filter { $0.hasPrefix(testFilePrefix) }.sorted().map { directory.appending($0) }
    }

    @discardableResult
    static func removeLeftovers(in directory: FilePath) -> Int {
        let files = testFiles(in: directory)
        for file in files { _ = file.withPlatformString { unlink($0) } }
        return files.count
    }

    /// A test file of exactly `size` bytes of incompressible data, flushed to disk and dropped from the
    /// page cache, so that reads never hit holes or cached pages.
    public func makeTestFile(
        _ label: String, size: UInt64, cancellation: BenchCancellation = BenchCancellation()
    ) throws(BenchError) -> FilePath {
        let path = directory.appending("\(Self.testFilePrefix)\(getpid())-\(label)")
        _ = path.withPlatformString { unlink($0) }
        let fd = try SystemIO.openFile(path, direct: false, create: true)
        defer { close(fd) }
        let chunk = 1 << 20
        let buffer = SystemIO.randomBuffer(chunk, seed: UInt64(truncatingIfNeeded: SystemIO.now()))
        defer { free(buffer) }
        var written: UInt64 = 0
        var seed = UInt64(truncatingIfNeeded: SystemIO.now())
        while written < size {
            if cancellation.isCancelled { throw BenchError(.interrupted, subject: directory.string) }
            // Fresh random bytes for every chunk: no two blocks of the file are equal or compressible.
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            SystemIO.fillRandom(buffer, chunk, seed: seed)
            let count = Int(min(UInt64(chunk), size - written))
            let result = pwrite(fd, buffer, count, off_t(written))
            if result < 0 {
                if errno == EINTR { continue }
                throw SystemIO.ioError(path, "pwrite", errno)
            }
            written += UInt64(result)
        }
        guard fsync(fd) == 0 else { throw SystemIO.ioError(path, "fsync", errno) }
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        #endif
        return path
    }

    /// Removes every test file in the target (this run's and any leftover).
    public func removeTestFiles() {
        Self.removeLeftovers(in: directory)
    }

    /// Releases the target's lock (also released when the process dies).
    public func release() {
        lock.unlock()
    }
}

/// Settings of BurgBench that belong in Burg's configuration rather than on a command line.
public struct BenchConfiguration: Sendable {
    /// When non-empty, benchmarks may only write under these directories.
    public var allowedTargets: [FilePath] = []
    /// fio's executable, looked up in PATH when nil.
    public var fioPath: FilePath?
    /// How long one fio attempt may take beyond its own runtime before it is stopped.
    public var fioGrace: Duration = .seconds(60)
    public init() {}
}

/// "1.5 GiB (1610612736 bytes)"-style sizes for messages.
func formatBytes(_ bytes: UInt64) -> String {
    let units: [(String, Double)] = [("TiB", 1_099_511_627_776), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
    for (name, size) in units where Double(bytes) >= size {
        return formatFixed(Double(bytes) / size, decimals: 1) + " " + name
    }
    return "\(bytes) bytes"
}
