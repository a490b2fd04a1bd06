import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a crash at any instant — `kill -9`, power loss — leaves the target either wholly
/// old or wholly new, never half written.
///
/// A write goes to a temporary file in the target's directory (created with `O_EXCL` under a unique
/// name), is flushed to disk, renamed over the target, and then the directory is flushed so that the
/// rename itself survives power loss. After ``write(_:to:options:)`` returns, the new content is durable
/// (with ``Options/Durability/durable``, the default).
///
/// **Temporary files** are named `.<target name>.burg-tmp-<pid>-<random>`. A write removes the leftovers
/// of earlier writes to the same target whose process is gone (a crashed writer); files of writers that
/// are still running are left alone.
///
/// **Concurrent writers** of one target never corrupt it (each rename is atomic), but the last rename
/// wins. For read-modify-write use ``update(_:options:_:)``, which serialises writers with the target's
/// ``FileLock`` so that no update is lost.
///
/// **Symbolic links**: the target path itself is replaced, so a symlink at the target is replaced by a
/// regular file rather than followed.
public enum AtomicFile {
    public struct Options: Sendable {
        public enum Durability: Sendable {
            /// Flush the file and its directory: after returning, the new content survives power loss.
            case durable
            /// Flush the file but not the directory: content is never torn, but after a power loss the
            /// rename may be undone (the old version comes back). Faster; `kill -9` safety is identical.
            case fileOnly
        }

        public var durability: Durability = .durable
        /// Keep the previous version as `<target>.backup`, itself replaced atomically.
        public var keepBackup: Bool = false
        /// Permissions of the new file. nil: those of the file being replaced, or 0600 for a new file.
        public var permissions: FilePermissions? = nil
        /// How long ``AtomicFile/update(_:options:_:)`` waits for the lock (nil: as long as it takes).
        public var lockTimeout: Duration? = nil

        public init() {}
    }

    /// The marker in temporary file names: `.<name>.burg-tmp-<pid>-<random>`.
    public static let temporaryMarker = ".burg-tmp-"

    /// Atomically replaces (or creates) `path` with `bytes`.
    public static func write(
        _ bytes: some ContiguousBytes, to path: FilePath, options: Options = Options()
    ) throws(AtomicFileError) {
        do {
            try write(to: path, options: options) { writer in
                try bytes.withUnsafeBytes { raw in try writer.write(raw) }
            }
        } catch let error as AtomicFileError {
            throw error
        } catch {
            preconditionFailure("only AtomicFileError can reach here: \(error)")
        }
    }

    /// Atomically replaces (or creates) `path` with what `producer` writes, chunk by chunk: a file of any
    /// size is written without holding it in memory. If `producer` throws, the target is unchanged and
    /// the error is rethrown.
    public static func write(
        to path: FilePath, options: Options = Options(), producer: (inout Writer) throws -> Void
    ) throws {
        let directory = path.removingLastComponent()
        guard let name = path.lastComponent?.string, !name.isEmpty, name != ".", name != ".." else {
            throw AtomicFileError(.targetIsDirectory, path: path)
        }
        // What is being replaced decides the default permissions; a directory cannot be replaced.
        var existing = stat()
        let exists = path.withPlatformString { lstat($0, &existing) } == 0
        if exists && (existing.st_mode & S_IFMT) == S_IFDIR {
            throw AtomicFileError(.targetIsDirectory, path: path)
        }
        let permissions = options.permissions?.rawValue
            ?? (exists ? existing.st_mode & 0o7777 : FilePermissions.ownerReadWrite.rawValue)

        removeLeftovers(of: path)

        let temporary = temporaryPath(for: path)
        let fd = temporary.withPlatformString { tempName in
            retryingOnInterrupt { open(tempName, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions) }
        }
        guard fd >= 0 else { throw AtomicFileError.from(.current("open(\(temporary))"), path: path) }
        var descriptorOpen = true
        var renamed = false
        defer {
            if descriptorOpen { close(fd) }
            if !renamed { _ = temporary.withPlatformString { unlink($0) } }
        }
        // open() applied the umask; set exactly the permissions asked for (or kept), and the old owner.
        guard fchmod(fd, permissions) == 0 else { throw AtomicFileError.from(.current("fchmod"), path: path) }
        if exists && (existing.st_uid != geteuid() || existing.st_gid != getegid()) {
            _ = fchown(fd, existing.st_uid, existing.st_gid)  // only root may; otherwise keep ours
        }

        var writer = Writer(descriptor: fd, path: path)
        try producer(&writer)
        try syncData(fd, path: path)
        descriptorOpen = false
        guard close(fd) == 0 else { throw AtomicFileError.from(.current("close"), path: path) }

        if options.keepBackup && exists {
            try replaceBackup(of: path, directory: directory)
        }
        let renameResult = temporary.withPlatformString { from in
            path.withPlatformString { to in rename(from, to) }
        }
        guard renameResult == 0 else { throw AtomicFileError.from(.current("rename"), path: path) }
        renamed = true
        if options.durability == .durable {
            try syncDirectory(directory, path: path)
        }
    }

    /// Reads the whole file, or nil if it does not exist.
    public static func read(_ path: FilePath) throws(AtomicFileError) -> [UInt8]? {
        let fd = path.withPlatformString { name in retryingOnInterrupt { open(name, O_RDONLY | O_CLOEXEC) } }
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw AtomicFileError.from(.current("open"), path: path)
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw AtomicFileError.from(.current("fstat"), path: path) }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw AtomicFileError(.targetIsDirectory, path: path) }
        var result = [UInt8]()
        result.reserveCapacity(Int(status.st_size))
        var chunk = [UInt8](repeating: 0, count: max(4096, min(Int(status.st_size) + 1, 1 << 20)))
        while true {
            let count = chunk.withUnsafeMutableBytes { raw in
                retryingOnInterrupt { Glibc.read(fd, raw.baseAddress, raw.count) }
            }
            if count < 0 { throw AtomicFileError.from(.current("read"), path: path) }
            if count == 0 { return result }
            result += chunk[..<count]
        }
    }

    /// Read-modify-write without lost updates: under the exclusive ``FileLock`` of `path` (its
    /// `<path>.lock` sidecar), reads the current content (nil if none), passes it to `transform`, and
    /// atomically writes what it returns. Concurrent updaters — threads or processes — are serialised.
    /// Blocks the calling thread while waiting for the lock.
    @available(*, noasync, message: "blocks the thread while waiting for the lock")
    @discardableResult
    public static func update(
        _ path: FilePath, options: Options = Options(), _ transform: ([UInt8]?) throws -> [UInt8]
    ) throws -> [UInt8] {
        let lock = try FileLock(guarding: path)
        return try lock.withLockBlocking(.exclusive, timeout: options.lockTimeout) {
            let new = try transform(try read(path))
            try write(new, to: path, options: options)
            return new
        }
    }

    /// Removes temporary files left by crashed writers of `path` (those whose process is gone).
    /// Returns how many were removed. Every write calls this; it is public for tools and tests.
    @discardableResult
    public static func removeLeftovers(of path: FilePath) -> Int {
        guard let name = path.lastComponent?.string else { return 0 }
        return removeDeadWritersTemporaries(in: path.removingLastComponent()) { $0.hasPrefix("." + name + temporaryMarker) }
    }

    /// Removes temporaries of every target in `directory` whose writer is gone — files, and directories
    /// named the same way (``temporarySibling(of:)``) — for directories of uniquely named files (backup
    /// archives), where the next write has another name.
    @discardableResult
    public static func removeLeftovers(inDirectory directory: FilePath) -> Int {
        removeDeadWritersTemporaries(in: directory) { $0.hasPrefix(".") }
    }

    /// Entries `.<name>.burg-tmp-<pid>-…` accepted by `filter` whose pid is not alive.
    private static func removeDeadWritersTemporaries(in directory: FilePath, where filter: (String) -> Bool) -> Int {
        let listed = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory.string)) ?? []
        var removed = 0
        for entry in listed where filter(entry) {
            guard let marker = entry.range(of: temporaryMarker) else { continue }
            let rest = entry[marker.upperBound...]
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), !ProcessIdentity.isAlive(pid) else { continue }
            if (try? FileManager.default.removeItem(atPath: directory.appending(entry).string)) != nil { removed += 1 }
        }
        return removed
    }

    /// A temporary name beside `path` for a file that a library writes itself (a zip archive) before
    /// ``commit(_:to:)`` puts it in place; leftovers of a killed writer are removed like those of `write`.
    public static func temporarySibling(of path: FilePath) -> FilePath {
        temporaryPath(for: path)
    }

    /// Makes a finished temporary file (from ``temporarySibling(of:)``) the file at `path`: flushes it,
    /// renames it over `path`, and flushes the directory. Afterwards `path` is wholly the new file, also
    /// after power loss; before, it is wholly the old one (or absent).
    public static func commit(_ temporary: FilePath, to path: FilePath) throws(AtomicFileError) {
        try flush(temporary)
        let renamed = temporary.withPlatformString { from in path.withPlatformString { to in rename(from, to) } }
        guard renamed == 0 else { throw AtomicFileError.from(.current("rename"), path: path) }
        try syncDirectory(path.removingLastComponent(), path: path)
    }

    /// Like ``commit(_:to:)``, but never replaces a file: flushes `temporary`, hard-links it as `path`
    /// (which fails when `path` exists, however many writers race for the name), removes the temporary
    /// name and flushes the directory. `temporary` may be any file on the same file system (an upload's
    /// spooled copy). Returns false, changing nothing, when `path` already exists.
    public static func commitNew(_ temporary: FilePath, to path: FilePath) throws(AtomicFileError) -> Bool {
        try flush(temporary)
        let linked = temporary.withPlatformString { from in path.withPlatformString { to in link(from, to) } }
        if linked != 0 {
            let error = SystemError.current("link")
            if error.errno == EEXIST { return false }
            throw AtomicFileError.from(error, path: path)
        }
        _ = temporary.withPlatformString { unlink($0) }
        try syncDirectory(path.removingLastComponent(), path: path)
        return true
    }

    /// Appends bytes to the temporary file of a write in progress.
    public struct Writer: ~Copyable {
        let descriptor: Int32
        let path: FilePath
        /// Bytes written so far.
        public private(set) var count: Int = 0

        public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(AtomicFileError) {
            var offset = 0
            while offset < bytes.count {
                let written = retryingOnInterrupt {
                    Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                }
                if written < 0 { throw AtomicFileError.from(.current("write"), path: path) }
                offset += written
            }
            count += bytes.count
        }

        public mutating func write(_ bytes: some ContiguousBytes) throws(AtomicFileError) {
            do {
                try bytes.withUnsafeBytes { raw in try write(raw) }
            } catch let error as AtomicFileError {
                throw error
            } catch {
                preconditionFailure("only AtomicFileError can reach here: \(error)")
            }
        }
    }

    // MARK: - Steps

    private static func temporaryPath(for path: FilePath) -> FilePath {
        let name = path.lastComponent!.string
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return path.removingLastComponent().appending(".\(name)\(temporaryMarker)\(getpid())-\(random)")
    }

    /// `<path>.backup` := the current `path`, atomically: a hard link under a temporary name renamed over
    /// the old backup (no copy of the data).
    private static func replaceBackup(of path: FilePath, directory: FilePath) throws {
        let backup = FilePath(path.string + ".backup")
        let temporary = temporaryPath(for: backup)
        let linked = path.withPlatformString { from in temporary.withPlatformString { to in link(from, to) } }
        guard linked == 0 else { throw AtomicFileError.from(.current("link (backup)"), path: backup) }
        let renamed = temporary.withPlatformString { from in backup.withPlatformString { to in rename(from, to) } }
        if renamed != 0 {
            let error = SystemError.current("rename (backup)")
            _ = temporary.withPlatformString { unlink($0) }
            throw AtomicFileError.from(error, path: backup)
        }
    }

    /// Flushes a finished file's data to the disk.
    private static func flush(_ path: FilePath) throws(AtomicFileError) {
        let fd = path.withPlatformString { name in retryingOnInterrupt { open(name, O_RDONLY | O_CLOEXEC) } }
        guard fd >= 0 else { throw AtomicFileError.from(.current("open"), path: path) }
        defer { close(fd) }
        try syncData(fd, path: path)
    }

    private static func syncData(_ fd: Int32, path: FilePath) throws(AtomicFileError) {
        #if canImport(Darwin)
        // Untested: on Darwin fsync does not reach the platter; F_FULLFSYNC does.
        let rc = fcntl(fd, F_FULLFSYNC)
        #else
        let rc = retryingOnInterrupt { fdatasync(fd) }
        #endif
        guard rc == 0 else { throw AtomicFileError.from(.current("fsync"), path: path) }
    }

    /// Flushes a directory so that a rename in it survives power loss.
    public static func syncDirectory(_ directory: FilePath, path: FilePath) throws(AtomicFileError) {
        let name = directory.isEmpty ? "." : directory.string
        let fd = retryingOnInterrupt { open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw AtomicFileError.from(.current("open(\(name))"), path: path) }
        defer { close(fd) }
        guard retryingOnInterrupt({ fsync(fd) }) == 0 else {
            throw AtomicFileError.from(.current("fsync(\(name))"), path: path)
        }
    }
}
