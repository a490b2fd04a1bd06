import BurgCore
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Re-encrypts every stored file with a new key (`burg files rotate-key`); also encrypts files stored
/// before encryption was turned on.
///
/// Crash-safe by order: the old key is first kept as `files.key.<id>`, then the new key written, then
/// each file re-encrypted atomically (readable under one key or the other at every moment), and only
/// when every file uses the new key are the retired keys moved to `files-keys/` (kept for backups). Run again after an interruption and it
/// finishes the same rotation instead of starting another.
public struct FileKeyRotation: Sendable {
    public let dataDirectory: FilePath

    public init(dataDirectory: FilePath) {
        self.dataDirectory = dataDirectory
    }

    public struct Report: Sendable, Encodable {
        public var newKeyID: String
        public var reencrypted = 0
        public var encryptedPlain = 0
        public var resumed = false
    }

    public func run() throws -> Report {
        var keyring = try FileKeyring.load(dataDirectory)
        guard let old = keyring.current else {
            throw FileError(.keyUnavailable, path: FileKey.path(in: dataDirectory).string,
                "does not exist: file encryption is off (`burg init --encrypt-files` turns it on)")
        }
        var report = Report(newKeyID: old.idHex)
        if keyring.retired.isEmpty {
            // Keep the old key under its id before anything depends on the new one.
            try FileKey.write(old, to: dataDirectory.appending(FileKey.fileName + "." + old.idHex))
            let new = FileKey(.init(size: .bits256))
            try FileKey.write(new, to: FileKey.path(in: dataDirectory))
            keyring = try FileKeyring.load(dataDirectory)
            report.newKeyID = new.idHex
        } else {
            report.resumed = true
        }
        let storage = FileStorage(dataDirectory: dataDirectory)
        let manager = FileManager.default
        let current = keyring.current!
        func list(_ path: FilePath) -> [String] { ((try? manager.contentsOfDirectory(atPath: path.string)) ?? []).sorted() }
        for collectionID in list(storage.root) {
            for recordID in list(storage.root.appending(collectionID)) {
                let directory = storage.directory(collectionId: collectionID, recordId: recordID)
                for file in list(directory) where !file.hasPrefix(".") {
                    let encrypted = file.hasSuffix(FileStorage.encryptedSuffix)
                    let name = encrypted ? String(file.dropLast(FileStorage.encryptedSuffix.count)) : file
                    guard FileStorage.isValidStoredName(name) else { continue }
                    let target = directory.appending(name + FileStorage.encryptedSuffix)
                    if encrypted {
                        let descriptor = try FileDescriptor.open(target, .readOnly, options: .closeOnExec)
                        let header = try FileStorage.readFully(descriptor, count: FileCipher.headerSize)
                        try? descriptor.close()
                        if FileCipher.keyID(inHeader: header) == current.id { continue }
                    } else if manager.fileExists(atPath: target.string) {
                        // An earlier run encrypted it and stopped before removing the plain copy.
                        _ = unlink(directory.appending(file).string)
                        continue
                    }
                    try AtomicFile.write(to: target) { writer in
                        var sealing = try SealingWriter(cipher: FileCipher(key: current, place: "\(collectionID)/\(recordID)/\(name)"), writer: &writer)
                        try storage.read(collectionId: collectionID, recordId: recordID, name: name, keyring: keyring) { chunk in
                            try sealing.append(chunk, to: &writer)
                        }
                        try sealing.finish(to: &writer)
                    }
                    if encrypted {
                        report.reencrypted += 1
                    } else {
                        _ = unlink(directory.appending(file).string)
                        report.encryptedPlain += 1
                    }
                }
            }
        }
        // Every file uses the new key: the old ones move to the archive (backups made before still
        // need them), each written there before its rotation copy is removed.
        let archive = dataDirectory.appending(FileKeyring.archiveDirectory)
        if !keyring.retired.isEmpty, mkdir(archive.string, 0o700) == 0 {
            try AtomicFile.syncDirectory(dataDirectory, path: archive)
        }
        for retired in keyring.retired {
            try FileKey.write(retired, to: archive.appending(retired.idHex + ".key"))
            _ = unlink(dataDirectory.appending(FileKey.fileName + "." + retired.idHex).string)
        }
        return report
    }
}
