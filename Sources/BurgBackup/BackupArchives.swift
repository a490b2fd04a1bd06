import BurgCore
import Foundation
import SystemPackage

/// One archive file in `<data dir>/backups`, as PocketBase's `/api/backups` lists it.
public struct BackupArchiveFile: Sendable, Equatable {
    /// The file name.
    public var key: String
    public var size: Int64
    public var modified: Date
}

/// The archive files of `<data dir>/backups` by name, for the HTTP API: every `.zip` (and encrypted
/// `.zip.enc`) file whatever its name — `burg-<time>.zip` made by `burg backup create` or a schedule,
/// a name a superuser chose, an upload — never temporary files or anything outside the directory.
public struct BackupArchives: Sendable {
    public let directory: FilePath

    public init(dataDirectory: FilePath) {
        directory = dataDirectory.appending("backups")
    }

    /// PocketBase's rule for a backup's name: lowercase letters, digits, `_`, `-` and `.`, not starting
    /// with a dot, ending in `.zip`, at most 150 characters.
    public static func isValidName(_ name: String) -> Bool {
        guard name.hasSuffix(".zip"), name.count > 4, name.count <= 150, !name.hasPrefix(".") else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0) }
    }

    /// A name the list may hold: a valid name, or one with `.enc` after it.
    static func isListable(_ name: String) -> Bool {
        isValidName(name.hasSuffix(".zip.enc") ? String(name.dropLast(4)) : name)
    }

    /// The archives, by name.
    public func list() -> [BackupArchiveFile] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.string)) ?? []
        return names.filter(Self.isListable).sorted().compactMap { file(named: $0) }
    }

    /// The archive of that name, if it exists (a regular file; nil for any name the list cannot hold).
    public func file(named key: String) -> BackupArchiveFile? {
        guard Self.isListable(key) else { return nil }
        var info = stat()
        guard stat(directory.appending(key).string, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let modified = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        return BackupArchiveFile(key: key, size: Int64(info.st_size), modified: modified)
    }

    public func path(of key: String) -> FilePath { directory.appending(key) }

    /// Deletes the archive; false when there is none of that name.
    public func delete(_ key: String) throws -> Bool {
        guard file(named: key) != nil else { return false }
        guard unlink(path(of: key).string) == 0 else {
            let error = SystemError(call: "unlink", errno: errno)
            if error.errno == ENOENT { return false }
            throw BackupError(.io, path: path(of: key).string, "cannot delete the archive (\(error))")
        }
        try? AtomicFile.syncDirectory(directory, path: path(of: key))
        return true
    }

    /// Puts `file` (an upload's spooled copy on the same file system) into the directory as `key`,
    /// flushed, never replacing an archive of that name: false then, nothing changed.
    public func add(_ file: FilePath, as key: String) throws -> Bool {
        guard Self.isValidName(key) else { throw BackupError(.notAnArchive, path: key, "not a valid archive name") }
        do {
            try FileManager.default.createDirectory(atPath: directory.string, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            return try AtomicFile.commitNew(file, to: path(of: key))
        } catch let error as AtomicFileError {
            throw BackupError(.io, path: path(of: key).string, "cannot store the archive: \(error)")
        } catch {
            throw BackupError(.io, path: directory.string, "cannot create the backups directory (\(error))")
        }
    }
}
