import BurgCore
import BurgStore
import Foundation
internal import GRDB
import SystemPackage

/// One archive in `<data dir>/backups`, with what is known about its verification.
public struct BackupArchive: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// The history (`_backups`) records a successful verification of this very file (name and size).
        case verified
        /// The history records a failed verification of it.
        case failed
        /// The history does not know it (copied in by hand, or made after the state a restore brought
        /// back, on another installation, …); ``BackupInventory/verifyUnrecorded(knownMigrations:key:progress:)``
        /// checks it against its manifest.
        case unverified
    }

    public var file: String
    /// When it was made: from the history, else from its name.
    public var createdAt: String
    public var size: Int64
    public var encrypted: Bool
    public var status: Status
    /// Why it failed verification, or why it could not be verified yet.
    public var error: String
}

/// The backups as they are on disk: every archive in `<data dir>/backups`, each matched with the
/// verification the history recorded for it.
///
/// Guarantees: the list is the archives that exist (an archive deleted by hand is not listed, one
/// copied in is), newest first; an archive counts as verified only when `_backups` records a successful
/// verification of a file of that name and size. Because `backups/` survives a restore and the history
/// is carried into the restored database (``BackupRestorer``), a restore never makes verified archives
/// look unverified.
public struct BackupInventory: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    public var directory: FilePath { store.configuration.dataDirectory.appending("backups") }

    /// The archives on disk, newest first.
    public func list() throws -> [BackupArchive] {
        let history = try store.read { db in try BackupInventory.historyRows(db.sqlite) }
        return Self.match(BackupCatalog.archives(in: directory), in: directory, history: history)
    }

    /// Verifies every archive the history does not know — hashes against its manifest, a trial
    /// restore, integrity_check, row counts — and records each result in `_backups`. Encrypted archives
    /// need `key`; without one they stay unverified, saying so. Returns the list afterwards.
    @discardableResult
    public func verifyUnrecorded(
        knownMigrations: [String], key: BackupKey?, progress: (@Sendable (_ file: String, _ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws -> [BackupArchive] {
        var archives = try list()
        for index in archives.indices where archives[index].status == .unverified {
            let archive = archives[index]
            if archive.encrypted && key == nil { continue }
            let path = directory.appending(archive.file)
            let started = ContinuousClock.now
            var record = BackupRecord(
                file: archive.file, createdAt: archive.createdAt, size: archive.size, durationMilliseconds: 0,
                sha256: try BackupCreator.sha256(of: path), verified: false, error: "")
            do {
                let verification = try BackupVerifier(knownMigrations: knownMigrations).verify(path, key: key) { done, total in
                    progress?(archive.file, done, total)
                }
                record.createdAt = verification.manifest.createdAt
                record.verified = true
            } catch {
                record.error = "\(error)"
            }
            record.durationMilliseconds = Int64((ContinuousClock.now - started).seconds * 1000)
            try BackupHistory(store: store).append(record)
            archives[index].createdAt = record.createdAt
            archives[index].status = record.verified ? .verified : .failed
            archives[index].error = record.error
        }
        return archives
    }

    /// Rows of `_backups`, oldest first; none when the table does not exist.
    static func historyRows(_ db: Database) throws -> [BackupRecord] {
        guard try db.tableExists("_backups") else { return [] }
        return try Row.fetchAll(db, sql: "SELECT * FROM _backups ORDER BY id").map {
            BackupRecord(file: $0["file"], createdAt: $0["created_at"], size: $0["size"], durationMilliseconds: $0["duration_ms"],
                sha256: $0["sha256"], verified: $0["verified"], error: $0["error"])
        }
    }

    /// Each archive with the newest history row of the same name and size.
    static func match(_ archives: [(name: String, date: Date)], in directory: FilePath, history: [BackupRecord]) -> [BackupArchive] {
        var newest: [String: BackupRecord] = [:]
        for record in history { newest["\(record.file)\u{0}\(record.size)"] = record }
        return archives.map { archive in
            let size = BackupCreator.size(of: directory.appending(archive.name))
            let encrypted = archive.name.hasSuffix(".enc")
            guard let record = newest["\(archive.name)\u{0}\(size)"] else {
                return BackupArchive(
                    file: archive.name, createdAt: BackupCreator.format(archive.date), size: size, encrypted: encrypted,
                    status: .unverified,
                    error: encrypted
                        ? "not in the backup history; `burg backup list --key-file K` (or --passphrase-stdin) verifies it"
                        : "not in the backup history; `burg backup list` verifies it")
            }
            return BackupArchive(
                file: archive.name, createdAt: record.createdAt, size: size, encrypted: encrypted,
                status: record.verified ? .verified : .failed, error: record.error)
        }
    }
}
