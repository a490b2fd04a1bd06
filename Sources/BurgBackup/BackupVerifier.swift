import BurgCore
import Crypto
import Foundation
internal import GRDB
import SystemPackage
import ZIPFoundation

/// The outcome of a successful verification.
public struct BackupVerification: Sendable, Equatable {
    public var manifest: BackupManifest
    public var archiveSize: Int64
    public var encrypted: Bool
}

/// Checks an archive the only way that counts: every entry's SHA-256 against the manifest, then the
/// database restored into a temporary directory, `PRAGMA integrity_check`, and its row counts compared to
/// the manifest. With `extractTo`, the verified entries are left there (that is how restore works).
public struct BackupVerifier: Sendable {
    /// Migrations this build knows; an archive with others comes from a newer Burg.
    public let knownMigrations: [String]

    public init(knownMigrations: [String]) {
        self.knownMigrations = knownMigrations
    }

    public func verify(
        _ archivePath: FilePath, key: BackupKey? = nil, extractTo destination: FilePath? = nil,
        progress: (@Sendable (_ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws -> BackupVerification {
        guard FileManager.default.fileExists(atPath: archivePath.string) else {
            throw BackupError(.notFound, path: archivePath.string, "no such file")
        }
        let work = try BackupWorkDirectory(near: destination ?? archivePath.removingLastComponent())
        defer { work.remove() }
        let encrypted = BackupCipher.isEncrypted(archivePath)
        var zipPath = archivePath
        if encrypted {
            zipPath = work.path.appending("archive.zip")
            try BackupCipher.decrypt(archivePath, key: key, to: zipPath)
        }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: zipPath.string), accessMode: .read)
        } catch {
            throw BackupError(.notAnArchive, path: archivePath.string, "not a zip archive (\(error))")
        }
        let manifest = try readManifest(archive, archivePath)
        let unknown = manifest.migrations.filter { !knownMigrations.contains($0) }
        guard manifest.format <= BackupManifest.currentFormat, unknown.isEmpty else {
            throw BackupError(.newerSchema, path: archivePath.string,
                "made by Burg \(manifest.burgVersion) with a newer schema (\(unknown.joined(separator: ", "))); restore it with that version or newer")
        }
        let target = destination ?? work.path.appending("restored")
        var done: Int64 = 0
        for expected in manifest.entries {
            guard Self.isSafeEntryName(expected.name) else {
                throw BackupError(.corrupt, path: archivePath.string, entry: expected.name, "unsafe entry name")
            }
            guard let entry = archive[expected.name] else {
                throw BackupError(.corrupt, path: archivePath.string, entry: expected.name, "listed in the manifest but missing")
            }
            let output = target.appending(expected.name)
            try FileManager.default.createDirectory(atPath: output.removingLastComponent().string, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(atPath: output.string, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let handle = FileHandle(forWritingAtPath: output.string) else {
                throw BackupError(.io, path: output.string, "cannot write the extracted entry")
            }
            var hasher = SHA256()
            var size: Int64 = 0
            do {
                _ = try archive.extract(entry, bufferSize: 1 << 20) { chunk in
                    hasher.update(data: chunk)
                    size += Int64(chunk.count)
                    try handle.write(contentsOf: chunk)
                    progress?(done + size, manifest.totalSize)
                }
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw BackupError(.corrupt, path: archivePath.string, entry: expected.name, "cannot be read back (\(error))")
            }
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            guard digest == expected.sha256, size == expected.size else {
                throw BackupError(.corrupt, path: archivePath.string, entry: expected.name,
                    "content differs from the manifest (SHA-256 \(digest.prefix(12))…, expected \(expected.sha256.prefix(12))…)")
            }
            done += size
        }
        try checkDatabase(target.appending(BackupManifest.databaseEntry), manifest, archivePath)
        let size = (try? FileManager.default.attributesOfItem(atPath: archivePath.string)[.size] as? NSNumber)?.int64Value ?? 0
        return BackupVerification(manifest: manifest, archiveSize: size, encrypted: encrypted)
    }

    private func readManifest(_ archive: Archive, _ archivePath: FilePath) throws -> BackupManifest {
        guard let entry = archive[BackupManifest.entryName] else {
            throw BackupError(.notAnArchive, path: archivePath.string, "a zip without \(BackupManifest.entryName): not a Burg backup")
        }
        var data = Data()
        do {
            _ = try archive.extract(entry) { chunk in
                data.append(chunk)
                if data.count > 64 << 20 { throw BackupError(.corrupt, path: archivePath.string, entry: entry.path, "the manifest is too large") }
            }
            return try JSONDecoder().decode(BackupManifest.self, from: data)
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError(.corrupt, path: archivePath.string, entry: BackupManifest.entryName, "cannot be read (\(error))")
        }
    }

    private func checkDatabase(_ path: FilePath, _ manifest: BackupManifest, _ archivePath: FilePath) throws {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let database = try DatabaseQueue(path: path.string, configuration: configuration)
            defer { try? database.close() }
            try database.read { db in
                let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
                guard integrity == ["ok"] else {
                    throw BackupError(.inconsistent, path: archivePath.string, entry: BackupManifest.databaseEntry,
                        "integrity_check: \(integrity.prefix(3).joined(separator: "; "))")
                }
                let counts = try BackupSnapshot.rowCounts(db)
                guard counts == manifest.collections else {
                    let differing = Set(counts.keys).union(manifest.collections.keys).filter { counts[$0] != manifest.collections[$0] }.sorted()
                    throw BackupError(.inconsistent, path: archivePath.string, entry: BackupManifest.databaseEntry,
                        "row counts differ from the manifest for \(differing.joined(separator: ", "))")
                }
            }
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError(.inconsistent, path: archivePath.string, entry: BackupManifest.databaseEntry, "not a readable database (\(error))")
        }
    }

    /// Entry names are relative paths without `..`, absolute parts or control characters.
    static func isSafeEntryName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("/") && !name.contains("\\")
            && !name.split(separator: "/", omittingEmptySubsequences: false).contains { $0.isEmpty || $0 == ".." || $0 == "." }
            && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
    }
}

/// A private temporary directory (0700) removed when done; named like AtomicFile's temporaries so a
/// killed process's leftovers are recognised and removed by the next backup.
struct BackupWorkDirectory {
    let path: FilePath

    init(near directory: FilePath) throws {
        let parent = directory.isEmpty ? FilePath(".") : directory
        try? FileManager.default.createDirectory(atPath: parent.string, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = AtomicFile.temporarySibling(of: parent.appending("work"))
        do {
            try FileManager.default.createDirectory(atPath: path.string, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError(.io, path: parent.string, "cannot create a temporary directory (\(error))")
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path.string)
    }
}
