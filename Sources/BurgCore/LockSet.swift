import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Several ``FileLock``s taken as one: a save that changes several files holds all of their locks or none.
///
/// Guarantees:
/// - **No deadlock between sets.** The locks are always taken in one canonical order — their resolved
///   paths (symbolic links and `..` resolved, duplicates removed), sorted — so two processes locking
///   overlapping sets in any order (`[a, b]` and `[b, a]`) never wait for each other in a cycle.
/// - **All or nothing.** When one lock cannot be taken (its timeout passes, the task is cancelled, it
///   cannot be opened), the locks already taken are released before the error is thrown; after any
///   failed ``lock(_:timeout:)`` the set holds nothing.
/// - **One timeout for the whole set.** `timeout` bounds the whole acquisition, not each lock; the error
///   is the ``LockError`` of the lock that was not free, naming its path and holder.
///
/// Like ``FileLock``, a set is one owner and not reentrant; locking it while held throws
/// ``LockError/Code/alreadyHeld``.
public final class LockSet: Sendable {
    /// The lock files, resolved, in the order they are taken.
    public let paths: [FilePath]
    private let locks: [FileLock]

    /// Opens (creating if needed) every lock file of `paths`; takes no lock yet.
    public init(_ paths: [FilePath], options: FileLock.Options = FileLock.Options()) throws(LockError) {
        var unique: [String: FilePath] = [:]
        for path in paths {
            let resolved = Self.resolve(path)
            unique[resolved.string] = resolved
        }
        let ordered = unique.keys.sorted().compactMap { unique[$0] }
        var locks: [FileLock] = []
        for path in ordered { locks.append(try FileLock(path, options: options)) }
        self.paths = ordered
        self.locks = locks
    }

    /// A set of the sidecar lock files of `targets` (see ``FileLock/sidecarPath(for:)``).
    public convenience init(guarding targets: [FilePath], options: FileLock.Options = FileLock.Options()) throws(LockError) {
        try self.init(targets.map(FileLock.sidecarPath(for:)), options: options)
    }

    /// Whether every lock of the set is held by this instance.
    public var isHeld: Bool { locks.allSatisfy { $0.heldMode != nil } }

    /// Takes every lock in canonical order, waiting at most `timeout` in all (nil: as long as it takes).
    /// Never blocks the cooperative thread pool. On failure nothing of the set is held.
    public func lock(_ mode: LockMode, timeout: Duration? = nil) async throws(LockError) {
        try guardNotHeld()
        let deadline = timeout.map { ContinuousClock.now + $0 }
        for (index, lock) in locks.enumerated() {
            do {
                try await lock.lock(mode, timeout: deadline.map { max(.zero, $0 - ContinuousClock.now) })
            } catch {
                release(locks[..<index])
                throw error
            }
        }
    }

    /// Like ``lock(_:timeout:)`` but blocks the calling thread while it waits.
    @available(*, noasync, message: "blocks the thread; use lock(_:timeout:) in async code")
    public func lockBlocking(_ mode: LockMode, timeout: Duration? = nil) throws(LockError) {
        try guardNotHeld()
        let deadline = timeout.map { ContinuousClock.now + $0 }
        for (index, lock) in locks.enumerated() {
            do {
                try lock.lockBlocking(mode, timeout: deadline.map { max(.zero, $0 - ContinuousClock.now) })
            } catch {
                release(locks[..<index])
                throw error
            }
        }
    }

    /// Releases every lock of the set (in reverse order). Does nothing for locks not held.
    public func unlock() {
        release(locks[...])
    }

    /// Runs `body` holding the whole set, and releases it afterwards whatever happens.
    public func withLock<R>(_ mode: LockMode, timeout: Duration? = nil, _ body: () async throws -> R) async throws -> R {
        try await lock(mode, timeout: timeout)
        defer { unlock() }
        return try await body()
    }

    private func release(_ taken: ArraySlice<FileLock>) {
        for lock in taken.reversed() { lock.unlock() }
    }

    /// A set half held by an earlier call must not be completed by a second one: one owner per set.
    private func guardNotHeld() throws(LockError) {
        if let held = locks.first(where: { $0.heldMode != nil }) {
            throw LockError(.alreadyHeld, path: held.path)
        }
    }

    /// `path` with symbolic links and `..` resolved: the file itself when it exists, else its directory
    /// (a lock file is created on first use). Unresolvable paths stay as given, made absolute, so the
    /// lock's own open reports what is wrong.
    static func resolve(_ path: FilePath) -> FilePath {
        if let real = realPath(path.string) { return FilePath(real) }
        let absolute = path.isAbsolute ? path : FilePath(FileManager.default.currentDirectoryPath).pushing(path)
        guard let name = absolute.lastComponent, let directory = realPath(absolute.removingLastComponent().string) else {
            return absolute.lexicallyNormalized()
        }
        return FilePath(directory).appending(name)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
