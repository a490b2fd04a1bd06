import BurgCore
import Crypto
import CryptoExtras
import Foundation
import SystemPackage

/// What opens an encrypted backup: a key file (32 random bytes, created 0600 by ``createKeyFile(at:)``)
/// or a passphrase, stretched with scrypt (N = 2^15, r = 8, p = 1) and a random salt kept in the archive.
public enum BackupKey: Sendable {
    case keyFile(FilePath)
    case passphrase(String)

    /// Creates a new key file; refuses to overwrite one (that would make its backups unreadable).
    public static func createKeyFile(at path: FilePath) throws -> FilePath {
        if FileManager.default.fileExists(atPath: path.string) {
            throw BackupError(.io, path: path.string, "a key file already exists there; keep it — backups made with it need it")
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var options = AtomicFile.Options()
        options.permissions = [.ownerRead, .ownerWrite]
        try AtomicFile.write(bytes, to: path, options: options)
        return path
    }

    var kdfByte: UInt8 {
        switch self {
        case .keyFile: 0
        case .passphrase: 1
        }
    }

    /// The AES-256 key for an archive with `salt`.
    func symmetricKey(salt: [UInt8]) throws -> SymmetricKey {
        switch self {
        case .keyFile(let path):
            guard let bytes = try AtomicFile.read(path) else {
                throw BackupError(.notFound, path: path.string, "the key file does not exist")
            }
            guard bytes.count == 32 else {
                throw BackupError(.wrongKey, path: path.string, "a key file holds exactly 32 bytes; this one has \(bytes.count)")
            }
            return SymmetricKey(data: bytes)
        case .passphrase(let passphrase):
            guard !passphrase.isEmpty else { throw BackupError(.wrongKey, path: "", "the passphrase is empty") }
            return try KDF.Scrypt.deriveKey(from: Array(passphrase.utf8), salt: salt, outputByteCount: 32,
                rounds: 1 << 15, blockSize: 8, parallelism: 1)
        }
    }
}

/// Streams a file through AES-GCM in 1 MiB segments, so archives of any size are encrypted with flat
/// memory. Each segment is sealed with its index and a final-segment flag as additional data, so segments
/// cannot be reordered, dropped or the file truncated without verification failing.
///
/// Layout: `BURGBAK1` · kdf (1 byte: 0 key file, 1 passphrase) · salt (16) · segments of
/// `length (UInt32 BE) · nonce (12) · ciphertext · tag (16)`.
enum BackupCipher {
    static let magic = Array("BURGBAK1".utf8)
    static let segmentSize = 1 << 20

    static func isEncrypted(_ path: FilePath) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path.string) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: magic.count)).map { Array($0) == magic } ?? false
    }

    static func additionalData(index: UInt64, final: Bool) -> [UInt8] {
        withUnsafeBytes(of: index.bigEndian) { Array($0) } + [final ? 1 : 0]
    }

    /// Encrypts `source` into `writer`.
    static func encrypt(_ source: FilePath, key: BackupKey, into writer: inout AtomicFile.Writer) throws {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let symmetricKey = try key.symmetricKey(salt: salt)
        try writer.write(magic + [key.kdfByte] + salt)
        guard let input = FileHandle(forReadingAtPath: source.string) else {
            throw BackupError(.io, path: source.string, "cannot read the archive to encrypt")
        }
        defer { try? input.close() }
        var index: UInt64 = 0
        var pending = try input.read(upToCount: segmentSize) ?? Data()
        while true {
            let next = pending.count == segmentSize ? (try input.read(upToCount: segmentSize) ?? Data()) : Data()
            let final = next.isEmpty
            let sealed = try AES.GCM.seal(pending, using: symmetricKey, authenticating: additionalData(index: index, final: final))
            guard let combined = sealed.combined else { throw BackupError(.io, path: source.string, "encryption failed") }
            try writer.write(withUnsafeBytes(of: UInt32(pending.count).bigEndian) { Array($0) })
            try writer.write(combined)
            if final { return }
            pending = next
            index += 1
        }
    }

    /// Decrypts `source` into the new file `target`; throws ``BackupError`` `wrongKey` when the first
    /// segment does not open, `corrupt` for any later damage or truncation.
    static func decrypt(_ source: FilePath, key: BackupKey?, to target: FilePath) throws {
        guard let input = FileHandle(forReadingAtPath: source.string) else {
            throw BackupError(.notFound, path: source.string, "cannot open the archive")
        }
        defer { try? input.close() }
        let header = Array(try input.read(upToCount: magic.count + 17) ?? Data())
        guard header.count == magic.count + 17, Array(header.prefix(magic.count)) == magic else {
            throw BackupError(.notAnArchive, path: source.string, "not an encrypted Burg backup")
        }
        guard let key else {
            throw BackupError(.wrongKey, path: source.string, "the archive is encrypted: pass --key-file or --passphrase-stdin")
        }
        guard header[magic.count] == key.kdfByte else {
            throw BackupError(.wrongKey, path: source.string,
                header[magic.count] == 1 ? "the archive was encrypted with a passphrase" : "the archive was encrypted with a key file")
        }
        let symmetricKey = try key.symmetricKey(salt: Array(header.suffix(16)))
        guard FileManager.default.createFile(atPath: target.string, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: target.string) else {
            throw BackupError(.io, path: target.string, "cannot create a temporary file to decrypt into")
        }
        defer { try? output.close() }
        var index: UInt64 = 0
        while true {
            let lengthBytes = try input.read(upToCount: 4) ?? Data()
            guard lengthBytes.count == 4 else {
                throw BackupError(.corrupt, path: source.string, "the archive is truncated (segment \(index) missing)")
            }
            let length = Int(lengthBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length <= segmentSize else { throw BackupError(.corrupt, path: source.string, "segment \(index) has an impossible length") }
            let combined = try input.read(upToCount: length + 28) ?? Data()
            guard combined.count == length + 28 else {
                throw BackupError(.corrupt, path: source.string, "the archive is truncated in segment \(index)")
            }
            let box = try AES.GCM.SealedBox(combined: combined)
            // A segment is final if it opens as final; a file cut after a full segment fails both ways.
            var plaintext: Data?
            var final = false
            for candidate in [length < segmentSize, length == segmentSize] where plaintext == nil {
                if let opened = try? AES.GCM.open(box, using: symmetricKey, authenticating: additionalData(index: index, final: candidate)) {
                    plaintext = opened
                    final = candidate
                }
            }
            guard let plaintext else {
                if index == 0 { throw BackupError(.wrongKey, path: source.string, "the key or passphrase does not open this archive") }
                throw BackupError(.corrupt, path: source.string, "segment \(index) fails authentication: the file was changed or damaged")
            }
            try output.write(contentsOf: plaintext)
            if final {
                guard (try input.read(upToCount: 1) ?? Data()).isEmpty else {
                    throw BackupError(.corrupt, path: source.string, "data follows the final segment")
                }
                try output.synchronize()
                return
            }
            index += 1
        }
    }
}
