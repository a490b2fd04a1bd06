import BurgCore
import BurgStore
import Crypto
import Foundation
internal import GRDB
import Logging
import SystemPackage
import ZIPFoundation

/// A created and verified backup.
public struct BackupResult: Sendable {
    public var path: FilePath
    public var record: BackupRecord
    public var manifest: BackupManifest
}

/// Progress of a backup: which step, and bytes done of the total when known.
public struct BackupProgress: Sendable {
    public enum Step: String, Sendable { case snapshot, archive, encrypt, verify }
    public var step: Step
    public var done: Int64
    public var total: Int64
}

/// Makes consistent backups of a live data directory.
///
/// Guarantees: the database is copied from one snapshot (`VACUUM INTO` on a connection of its own, which
/// never blocks writers); record files present at snapshot time are included with their SHA-256; the
/// archive is written under a temporary name, flushed, and renamed into `<data dir>/backups/` — a process
/// killed at any point leaves no partial archive under a final name, and its temporary files are removed
/// by the next backup. Memory stays flat whatever the size (entries are streamed in 1 MiB chunks). Every
/// new archive is verified (``BackupVerifier``) and the result stored in the history before returning.
public struct BackupCreator: Sendable {
    public let store: Store
    public let dataDirectory: FilePath
    public let knownMigrations: [String]
    public let logger: Logger

    public init(store: Store, dataDirectory: FilePath, knownMigrations: [String], logger: Logger = Logger(label: "burg.backup")) {
        self.store = store
        self.dataDirectory = dataDirectory
        self.knownMigrations = knownMigrations
        self.logger = logger
    }

    public var backupsDirectory: FilePath { dataDirectory.appending("backups") }

    /// `name`: the archive's file name (a ``BackupArchives/isValidName(_:)`` name, `.enc` appended when
    /// encrypted); nil: `burg-<time>.zip`, the names retention prunes.
    public func create(
        key: BackupKey? = nil, name: String? = nil, now: Date = Date(), progress: (@Sendable (BackupProgress) -> Void)? = nil
    ) throws -> BackupResult {
        let started = ContinuousClock.now
        let directory = backupsDirectory
        do {
            try FileManager.default.createDirectory(atPath: directory.string, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError(.io, path: directory.string, "cannot create the backups directory (\(error))")
        }
        let cleaned = AtomicFile.removeLeftovers(inDirectory: directory)
        if cleaned > 0 { logger.notice("removed \(cleaned) leftover(s) of an interrupted backup", metadata: ["dir": "\(directory)"]) }

        let name = name.map { key == nil ? $0 : $0 + ".enc" } ?? Self.archiveName(at: now, encrypted: key != nil)
        let final = directory.appending(name)
        guard !FileManager.default.fileExists(atPath: final.string) else {
            throw BackupError(.io, path: final.string, "an archive of that name already exists")
        }

        // 1. The database snapshot.
        progress?(BackupProgress(step: .snapshot, done: 0, total: 0))
        let snapshot = AtomicFile.temporarySibling(of: directory.appending("snapshot.db"))
        defer { try? FileManager.default.removeItem(atPath: snapshot.string) }
        do {
            try store.vacuum(into: snapshot)
        } catch {
            throw BackupError(.io, path: snapshot.string, "cannot snapshot the database: \(error)")
        }
        let (migrations, collections) = try readSnapshot(snapshot)

        // 2. The files, the manifest, the zip.
        var sources: [(name: String, path: FilePath)] = [(BackupManifest.databaseEntry, snapshot)]
        sources += Self.storageFiles(in: dataDirectory)
        let total = sources.reduce(Int64(0)) { $0 + Self.size(of: $1.path) }
        let zipPath = AtomicFile.temporarySibling(of: key == nil ? final : directory.appending(name + ".zip"))
        defer { try? FileManager.default.removeItem(atPath: zipPath.string) }
        var entries: [BackupManifest.Entry] = []
        do {
            let archive = try Archive(url: URL(fileURLWithPath: zipPath.string), accessMode: .create)
            var done: Int64 = 0
            for source in sources {
                entries.append(try add(source.path, as: source.name, to: archive) { written in
                    progress?(BackupProgress(step: .archive, done: done + written, total: total))
                })
                done += entries.last!.size
            }
            let manifest = BackupManifest(format: BackupManifest.currentFormat, burgVersion: BurgVersion.current, migrations: migrations,
                createdAt: Self.format(now), collections: collections, entries: entries)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(manifest)
            try archive.addEntry(with: BackupManifest.entryName, type: .file, uncompressedSize: Int64(data.count)) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError(.io, path: final.string, "cannot write the archive: \(error)")
        }

        // 3. Into place: renamed as is, or encrypted through AtomicFile.
        do {
            if let key {
                progress?(BackupProgress(step: .encrypt, done: 0, total: Self.size(of: zipPath)))
                var options = AtomicFile.Options()
                options.permissions = [.ownerRead, .ownerWrite]
                try AtomicFile.write(to: final, options: options) { writer in
                    try BackupCipher.encrypt(zipPath, key: key, into: &writer)
                }
            } else {
                try AtomicFile.commit(zipPath, to: final)
            }
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError(.io, path: final.string, "cannot put the archive in place: \(error)")
        }

        // 4. Verified by restoring it, and recorded.
        progress?(BackupProgress(step: .verify, done: 0, total: total))
        var record = BackupRecord(file: name, createdAt: Self.format(now), size: Self.size(of: final), durationMilliseconds: 0,
            sha256: try Self.sha256(of: final), verified: false, error: "")
        var manifest: BackupManifest?
        do {
            let verification = try BackupVerifier(knownMigrations: knownMigrations).verify(final, key: key) { done, total in
                progress?(BackupProgress(step: .verify, done: done, total: total))
            }
            manifest = verification.manifest
            record.verified = true
        } catch {
            record.error = "\(error)"
        }
        record.durationMilliseconds = Int64((ContinuousClock.now - started).seconds * 1000)
        try BackupHistory(store: store).append(record)
        guard let manifest else {
            throw BackupError(.corrupt, path: final.string, "the new archive failed verification: \(record.error)")
        }
        logger.info("backup created and verified", metadata: ["file": "\(final)", "bytes": "\(record.size)", "ms": "\(record.durationMilliseconds)"])
        return BackupResult(path: final, record: record, manifest: manifest)
    }

    private func readSnapshot(_ snapshot: FilePath) throws -> ([String], [String: Int]) {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let database = try DatabaseQueue(path: snapshot.string, configuration: configuration)
            defer { try? database.close() }
            return try database.read { db in (try BackupSnapshot.migrations(db), try BackupSnapshot.rowCounts(db)) }
        } catch {
            throw BackupError(.io, path: snapshot.string, "cannot read the snapshot: \(error)")
        }
    }

    /// Streams `path` into the archive, hashing as it goes.
    private func add(_ path: FilePath, as name: String, to archive: Archive, progress: (Int64) -> Void) throws -> BackupManifest.Entry {
        guard let handle = FileHandle(forReadingAtPath: path.string) else {
            throw BackupError(.io, path: path.string, "cannot read \(name)")
        }
        defer { try? handle.close() }
        let size = Self.size(of: path)
        var hasher = SHA256()
        var written: Int64 = 0
        try archive.addEntry(with: name, type: .file, uncompressedSize: size, bufferSize: 1 << 20) { position, chunkSize in
            // ZIPFoundation asks for consecutive chunks; a file that shrank mid-copy ends the entry early
            // and the size check below catches it.
            let chunk = try handle.read(upToCount: chunkSize) ?? Data()
            guard position == written, chunk.count == chunkSize else {
                throw BackupError(.io, path: path.string, "\(name) changed while being archived")
            }
            hasher.update(data: chunk)
            written += Int64(chunk.count)
            progress(written)
            return chunk
        }
        return BackupManifest.Entry(name: name, size: size, sha256: hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }

    /// Record files under `<data dir>/storage`, as archive entries `storage/<relative path>`. Files are
    /// immutable once stored (a new upload gets a new name), so the set present now is what the
    /// snapshot references, plus possibly files of records created after it (harmless extras).
    static func storageFiles(in dataDirectory: FilePath) -> [(name: String, path: FilePath)] {
        let root = dataDirectory.appending("storage")
        guard let enumerator = FileManager.default.enumerator(atPath: root.string) else { return [] }
        var files: [(String, FilePath)] = []
        while let relative = enumerator.nextObject() as? String {
            let path = root.appending(relative)
            var status = stat()
            guard lstat(path.string, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
                  !relative.contains(AtomicFile.temporaryMarker) else { continue }
            files.append(("storage/" + relative, path))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    static func size(of path: FilePath) -> Int64 {
        var status = stat()
        return stat(path.string, &status) == 0 ? Int64(status.st_size) : 0
    }

    static func sha256(of path: FilePath) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path.string) else { throw BackupError(.io, path: path.string, "cannot read") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// `burg-20261124-093005-123.zip` (`.zip.enc` when encrypted): sortable, one per millisecond.
    static func archiveName(at date: Date, encrypted: Bool) -> String {
        "burg-\(utcFormatter(archiveStampFormat).string(from: date)).zip" + (encrypted ? ".enc" : "")
    }

    static func format(_ date: Date) -> String {
        utcFormatter(recordDateFormat).string(from: date)
    }
}

/// Time stamps in archive names (`20261124-093005-123`) and in the history (records' date format).
let archiveStampFormat = "yyyyMMdd-HHmmss-SSS"
let recordDateFormat = "yyyy-MM-dd HH:mm:ss.SSS'Z'"

/// A formatter of UTC times in a fixed format, independent of the machine's locale.
func utcFormatter(_ format: String) -> DateFormatter {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = format
    return formatter
}
