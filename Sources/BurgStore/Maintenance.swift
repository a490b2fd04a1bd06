import BurgCore
import Foundation
internal import GRDB
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Store {
    /// Runs a WAL checkpoint and reports how far it got. A checkpoint that a reader or writer kept from
    /// completing is not an error: the result says `busy`, or fewer frames checkpointed than present.
    ///
    /// PASSIVE never waits and runs on a connection of its own, beside this process's writer (writers
    /// go on meanwhile). RESTART and TRUNCATE wait (up to the busy timeout, holding this process's
    /// writer) for readers to move past the WAL's end; TRUNCATE then empties the WAL file.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func checkpoint(_ mode: CheckpointResult.Mode = .passive) throws(StoreError) -> CheckpointResult {
        let grdbMode: Database.CheckpointMode =
            switch mode {
            case .passive: .passive
            case .full: .full
            case .restart: .restart
            case .truncate: .truncate
            }
        do {
            let run = { (db: Database) throws -> (Int, Int, Bool) in
                do {
                    let result = try db.checkpoint(grdbMode)
                    return (result.walFrameCount, result.checkpointedFrameCount, false)
                } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                    return (-1, -1, true)
                }
            }
            let (frames, checkpointed, busy) = mode == .passive
                ? try checkpointer.withLock { connection in
                    if connection == nil {
                        var grdb = Configuration()
                        grdb.label = "burg.store.checkpoint"
                        grdb.busyMode = .timeout(configuration.busyTimeout.seconds)
                        grdb.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
                        connection = try DatabaseQueue(path: path.string, configuration: grdb)
                    }
                    return try connection!.writeWithoutTransaction(run)
                }
                : try pool.writeWithoutTransaction(run)
            let result = CheckpointResult(
                mode: mode, walFrames: frames, checkpointedFrames: checkpointed, busy: busy,
                walBytesAfter: fileSize(configuration.walPath) ?? 0,
                atMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
            recorder.recordCheckpoint(result)
            return result
        } catch {
            throw storeError(error)
        }
    }

    /// `PRAGMA optimize`: lets SQLite refresh the query planner's statistics where they are stale.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func optimize() throws(StoreError) {
        do {
            try writeWithoutTransaction { db in try db.execute(sql: "PRAGMA optimize") }
        } catch {
            throw storeError(error)
        }
    }

    /// Compacts the database in place (`VACUUM`), then truncates the WAL. Safe while other processes use
    /// the database — it is one transaction — but their writes wait until it is done, and it needs free
    /// disk space of about twice the database's size.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func vacuum() throws(StoreError) {
        do {
            try writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
        } catch {
            throw storeError(error)
        }
        try checkpoint(.truncate)
    }

    /// Writes a compacted copy of the database to `target` (`VACUUM INTO`), a consistent snapshot taken
    /// without blocking writers. After it returns the copy is durable: SQLite does not flush it, so this
    /// flushes the file and its directory. The copy is written under a temporary name and renamed, so
    /// `target` never holds half a database; an existing `target` is refused, never overwritten.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func vacuum(into target: FilePath) throws(StoreError) {
        var exists = stat()
        if target.withPlatformString({ lstat($0, &exists) }) == 0 {
            throw StoreError(.io, path: target, message: "the target file already exists; choose a new name")
        }
        let temporary = FilePath(target.string + ".burg-tmp-\(getpid())")
        _ = temporary.withPlatformString { unlink($0) }
        defer { _ = temporary.withPlatformString { unlink($0) } }
        do {
            // A connection of its own: VACUUM INTO reads one snapshot and needs no write lock on the
            // source, so neither this process's writer nor its readers are held up.
            var configuration = Configuration()
            configuration.busyMode = .timeout(self.configuration.busyTimeout.seconds)
            let connection = try DatabaseQueue(path: path.string, configuration: configuration)
            try connection.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM INTO ?", arguments: [temporary.string])
            }
            try connection.close()
        } catch {
            throw storeError(error)
        }
        try Self.flush(temporary, reportAs: target)
        let renamed = temporary.withPlatformString { from in target.withPlatformString { to in rename(from, to) } }
        guard renamed == 0 else {
            throw StoreError(.io, path: target, message: "rename: \(String(cString: strerror(errno)))")
        }
        do {
            try AtomicFile.syncDirectory(target.removingLastComponent(), path: target)
        } catch {
            throw StoreError(.io, path: target, message: error.description)
        }
    }

    static func flush(_ file: FilePath, reportAs target: FilePath) throws(StoreError) {
        let fd = file.withPlatformString { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw StoreError(.io, path: target, message: "open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw StoreError(.io, path: target, message: "fsync: \(String(cString: strerror(errno)))")
        }
    }
}

func fileSize(_ path: FilePath) -> Int64? {
    var status = stat()
    guard path.withPlatformString({ stat($0, &status) }) == 0 else { return nil }
    return Int64(status.st_size)
}
