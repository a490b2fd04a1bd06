import BurgCore
import Crypto
import Foundation
import SystemPackage

/// The key that encrypts record files at rest (AES-256-GCM), in `<data dir>/files.key`: one line of
/// base64, created 0600. Encryption is on when the file exists.
///
/// Rotation (`burg files rotate-key`) keeps the old key as `files.key.<id>` until every file has been
/// re-encrypted with the new one, so a crash mid-way leaves every file readable; then it moves to
/// `files-keys/<id>.key`, kept so that backups made before the rotation can still be read after a
/// restore. Back the key files up with the backups' key: a backup's files cannot be read without them.
public struct FileKey: Sendable, Equatable {
    public static let fileName = "files.key"
    let key: SymmetricKey
    /// The first 8 bytes of SHA-256 of the key, written in each file's header: which key opens it.
    public let id: [UInt8]

    public static func == (a: FileKey, b: FileKey) -> Bool { a.id == b.id }

    init(_ key: SymmetricKey) {
        self.key = key
        id = Array(SHA256.hash(data: key.withUnsafeBytes { Data($0) }).prefix(8))
    }

    public var idHex: String { id.map { String(format: "%02x", $0) }.joined() }

    public static func path(in dataDirectory: FilePath) -> FilePath { dataDirectory.appending(fileName) }

    /// Creates a new random key file; refuses to replace an existing one (that would orphan every file).
    @discardableResult
    public static func create(in dataDirectory: FilePath) throws -> FileKey {
        let path = path(in: dataDirectory)
        if FileManager.default.fileExists(atPath: path.string) {
            throw FileError(.keyExists, path: path.string, "a key file already exists; files encrypted with it need it (use `burg files rotate-key` to change keys)")
        }
        let key = FileKey(SymmetricKey(size: .bits256))
        try write(key, to: path)
        return key
    }

    static func write(_ key: FileKey, to path: FilePath) throws {
        var options = AtomicFile.Options()
        options.permissions = .ownerReadWrite
        let text = key.key.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n"
        try AtomicFile.write(Array(text.utf8), to: path, options: options)
    }

    /// The key in `path`, or nil when there is none.
    static func load(_ path: FilePath) throws -> FileKey? {
        guard let bytes = try AtomicFile.read(path) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: text), data.count == 32 else {
            throw FileError(.keyUnavailable, path: path.string, "is not a Burg file key (one line of base64, 32 bytes)")
        }
        return FileKey(SymmetricKey(data: data))
    }
}

/// The current key (new files are encrypted with it) and retired keys still needed to read older files.
public struct FileKeyring: Sendable {
    public var current: FileKey?
    public var retired: [FileKey]

    /// Keys of finished rotations (`files-keys/<id>.key`): only for reading older files (from backups).
    public var archived: [FileKey] = []

    public static let archiveDirectory = "files-keys"

    /// Reads `files.key`, any `files.key.<id>` (a rotation in progress) and the archived keys.
    public static func load(_ dataDirectory: FilePath) throws -> FileKeyring {
        let current = try FileKey.load(FileKey.path(in: dataDirectory))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.string)) ?? []
        let retired = try names.filter { $0.hasPrefix(FileKey.fileName + ".") && !$0.contains(AtomicFile.temporaryMarker) }.sorted()
            .compactMap { try FileKey.load(dataDirectory.appending($0)) }
        let archive = dataDirectory.appending(archiveDirectory)
        let archivedNames = (try? FileManager.default.contentsOfDirectory(atPath: archive.string)) ?? []
        let archived = try archivedNames.filter { $0.hasSuffix(".key") && !$0.hasPrefix(".") }.sorted()
            .compactMap { try FileKey.load(archive.appending($0)) }
        return FileKeyring(current: current, retired: retired, archived: archived)
    }

    func key(id: [UInt8]) -> FileKey? {
        ([current].compactMap { $0 } + retired + archived).first { $0.id == id }
    }
}
