import BurgCore
import Foundation
internal import GRDB
import SystemPackage

/// Where a restore left things.
public struct RestoreResult: Sendable {
    /// The data directory, now holding the backup's state.
    public var dataDirectory: FilePath
    /// The data directory as it was before, kept whole.
    public var previous: FilePath
    public var manifest: BackupManifest
    /// Rows of the backup history carried from the previous database into the restored one.
    public var historyCarried: Int
}

/// Replaces a data directory with the state in a backup.
///
/// Guarantees: nothing is touched while a server holds the data directory (unless asked to stop it);
/// the archive is restored and verified in a new directory beside the data directory first; only then
/// are the directories swapped, by two renames, keeping the previous state whole as
/// `<data dir>.before-restore-<time>`. Files that are not part of backups (`auth.secret`, `burg.json`,
/// key files) are copied over from the previous directory, and `backups/` moves along — and so does the
/// backup history: the previous database's `_backups` rows (and one for the archive just restored and
/// verified, when it lies in `backups/`) are written into the restored database before the swap, so the
/// archives stay verified after the restore.
///
/// Windows (untested): directory renames fail while any process has a file open inside; the same steps
/// apply, with `MoveFileEx` semantics through Foundation's `moveItem`.
public struct BackupRestorer: Sendable {
    public let knownMigrations: [String]

    public init(knownMigrations: [String]) {
        self.knownMigrations = knownMigrations
    }

    public func restore(
        _ archive: FilePath, key: BackupKey?, into dataDirectory: FilePath, stopServer: Bool = false,
        now: Date = Date(), progress: (@Sendable (Int64, Int64) -> Void)? = nil
    ) throws -> RestoreResult {
        if let holder = InstanceLock.currentHolder(dataDir: dataDirectory) {
            guard stopServer else {
                throw BackupError(.serverRunning, path: dataDirectory.string,
                    "Burg is running on it (pid \(holder.pid): \(holder.command)); stop it first or pass --stop-server")
            }
            try Self.stop(holder.pid, dataDirectory: dataDirectory)
        }
        // Held until the swap is done, so no server starts on a half-restored directory.
        let lock = try InstanceLock.acquire(dataDir: dataDirectory)
        defer { lock.release() }

        let stamp = Self.stamp(now)
        let parent = dataDirectory.removingLastComponent()
        let name = dataDirectory.lastComponent?.string ?? "burg_data"
        let staging = parent.appending(".\(name).restore-\(stamp)")
        let previous = parent.appending("\(name).before-restore-\(stamp)")
        do {
            try FileManager.default.createDirectory(atPath: staging.string, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError(.io, path: staging.string, "cannot create the staging directory beside the data directory (\(error))")
        }
        var swapped = false
        defer { if !swapped { try? FileManager.default.removeItem(atPath: staging.string) } }

        let verifyStarted = ContinuousClock.now
        let verification = try BackupVerifier(knownMigrations: knownMigrations).verify(archive, key: key, extractTo: staging, progress: progress)
        let carried: Int
        do {
            carried = try Self.carryHistory(
                from: dataDirectory.appending(BackupManifest.databaseEntry), into: staging.appending(BackupManifest.databaseEntry),
                restored: archive, verification: verification, took: ContinuousClock.now - verifyStarted,
                backups: dataDirectory.appending("backups"))
        } catch {
            throw BackupError(.io, path: staging.string, "cannot carry the backup history into the restored database; the data directory is unchanged (\(error))")
        }
        do {
            for entry in try FileManager.default.contentsOfDirectory(atPath: dataDirectory.string) where Self.carriesOver(entry) {
                try FileManager.default.copyItem(atPath: dataDirectory.appending(entry).string, toPath: staging.appending(entry).string)
            }
            try AtomicFile.syncDirectory(staging, path: staging)
            try Self.move(dataDirectory, to: previous)
            try Self.move(staging, to: dataDirectory)
            swapped = true
            let backups = previous.appending("backups")
            if FileManager.default.fileExists(atPath: backups.string) {
                try Self.move(backups, to: dataDirectory.appending("backups"))
            }
            try AtomicFile.syncDirectory(parent, path: dataDirectory)
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError(.io, path: dataDirectory.string, "restore failed before completing; the data directory is unchanged unless \(previous) exists (\(error))")
        }
        return RestoreResult(dataDirectory: dataDirectory, previous: previous, manifest: verification.manifest, historyCarried: carried)
    }

    /// Writes the `_backups` rows of `previous` (when it is a database with a history) that `restored`
    /// lacks into it, plus a row for `archive` when it lies in `backups` and neither knows it (it was just
    /// verified). Returns the rows written. A restored database without a history table is left alone.
    static func carryHistory(
        from previous: FilePath, into restored: FilePath, restored archive: FilePath, verification: BackupVerification,
        took: Duration, backups: FilePath
    ) throws -> Int {
        var rows: [BackupRecord] = []
        if FileManager.default.fileExists(atPath: previous.string),
           let database = try? DatabaseQueue(path: previous.string) {
            rows = (try? database.read { db in try BackupInventory.historyRows(db) }) ?? []
            try? database.close()
        }
        let database = try DatabaseQueue(path: restored.string)
        defer { try? database.close() }
        return try database.write { db -> Int in
            guard try db.tableExists("_backups") else { return 0 }
            let present = Set(try BackupInventory.historyRows(db).map { "\($0.file)\u{0}\($0.sha256)" })
            var written = 0
            var known = present
            func insert(_ record: BackupRecord) throws {
                guard known.insert("\(record.file)\u{0}\(record.sha256)").inserted else { return }
                try db.execute(sql: """
                    INSERT INTO _backups (file, created_at, size, duration_ms, sha256, verified, error) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [record.file, record.createdAt, record.size, record.durationMilliseconds, record.sha256, record.verified, record.error])
                written += 1
            }
            for record in rows { try insert(record) }
            if let name = archive.lastComponent?.string, Self.sameFile(archive, backups.appending(name)),
               !rows.contains(where: { $0.file == name && $0.size == verification.archiveSize }) {
                try insert(BackupRecord(
                    file: name, createdAt: verification.manifest.createdAt, size: verification.archiveSize,
                    durationMilliseconds: Int64(took.seconds * 1000), sha256: try BackupCreator.sha256(of: archive),
                    verified: true, error: ""))
            }
            return written
        }
    }

    /// What belongs to the installation rather than to the data: copied into the restored directory.
    static func carriesOver(_ entry: String) -> Bool {
        let excluded: Set<String> = ["data.db", "data.db-wal", "data.db-shm", "storage", "backups", "burg.lock"]
        return !excluded.contains(entry) && !entry.hasPrefix("data.db") && !entry.contains(AtomicFile.temporaryMarker)
    }

    /// Whether both paths name one file (same device and inode).
    static func sameFile(_ a: FilePath, _ b: FilePath) -> Bool {
        var first = stat()
        var second = stat()
        guard stat(a.string, &first) == 0, stat(b.string, &second) == 0 else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    static func move(_ source: FilePath, to target: FilePath) throws {
        #if os(Windows)
        try FileManager.default.moveItem(atPath: source.string, toPath: target.string)
        #else
        guard rename(source.string, target.string) == 0 else {
            throw BackupError(.io, path: source.string, "cannot rename to \(target): \(String(cString: strerror(errno)))")
        }
        #endif
    }

    /// Asks the server to stop (SIGTERM) and waits up to 30 s for it to release the data directory.
    static func stop(_ pid: Int32, dataDirectory: FilePath) throws {
        #if os(Windows)
        throw BackupError(.serverRunning, path: dataDirectory.string, "stop the server first (pid \(pid))")
        #else
        _ = kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(30)
        while InstanceLock.currentHolder(dataDir: dataDirectory) != nil {
            guard ContinuousClock.now < deadline else {
                throw BackupError(.serverRunning, path: dataDirectory.string, "pid \(pid) did not stop within 30 s")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #endif
    }

    static func stamp(_ date: Date) -> String {
        utcFormatter("yyyyMMdd-HHmmss").string(from: date)
    }
}
