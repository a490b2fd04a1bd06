import Foundation
import SystemPackage

/// Reads a stored record file chunk by chunk (decrypting it when it is encrypted), for callers that pull
/// — an HTTP response streams it without holding the file in memory. Not thread-safe: one reader is used
/// by one caller at a time.
///
/// An encrypted file's chunks are authenticated as they are read: a damaged, truncated or moved file
/// throws ``FileError`` `.damaged` at the first bad chunk (a response already under way is then cut
/// short rather than completed with wrong bytes).
public final class StoredFileReader {
    /// The file's size in plaintext bytes.
    public let size: Int
    private let descriptor: FileDescriptor
    private let path: FilePath
    private var cipher: FileCipher?
    private var done = false

    init(path: FilePath, encrypted: Bool, place: String, keyring: FileKeyring) throws {
        let descriptor: FileDescriptor
        do { descriptor = try FileDescriptor.open(path, .readOnly, options: .closeOnExec) } catch {
            throw FileError(.notFound, path: path.string, "cannot open: \(error)")
        }
        self.descriptor = descriptor
        self.path = path
        do {
            let stored = Int(try descriptor.seek(offset: 0, from: .end))
            _ = try descriptor.seek(offset: 0, from: .start)
            guard encrypted else {
                size = stored
                return
            }
            let header = try FileStorage.readFully(descriptor, count: FileCipher.headerSize)
            guard let keyID = FileCipher.keyID(inHeader: header) else {
                throw FileError(.damaged, path: path.string, "has no Burg encryption header")
            }
            guard let key = keyring.key(id: keyID) else {
                throw FileError(.keyUnavailable, path: path.string,
                    "was encrypted with key \(keyID.map { String(format: "%02x", $0) }.joined()), which is not in files.key (restore that key file)")
            }
            cipher = FileCipher(key: key, header: header, place: place)
            // Every chunk carries a tag; the last one is short (possibly empty).
            let body = stored - FileCipher.headerSize
            let sealedChunk = FileCipher.chunkSize + FileCipher.tagSize
            let chunks = body / sealedChunk + 1
            size = max(0, body - chunks * FileCipher.tagSize)
        } catch {
            try? descriptor.close()
            throw error
        }
    }

    deinit {
        try? descriptor.close()
    }

    /// The next chunk (up to 1 MiB), or nil at the end of the file.
    public func next() throws -> [UInt8]? {
        guard !done else { return nil }
        guard cipher != nil else {
            let chunk = try FileStorage.readFully(descriptor, count: FileCipher.chunkSize)
            if chunk.count < FileCipher.chunkSize { done = true }
            return chunk.isEmpty ? nil : chunk
        }
        let sealed = try FileStorage.readFully(descriptor, count: FileCipher.chunkSize + FileCipher.tagSize)
        let final = sealed.count < FileCipher.chunkSize + FileCipher.tagSize
        do {
            let plaintext = try cipher!.open(sealed, final: final)
            if final { done = true }
            return plaintext
        } catch {
            done = true
            throw FileError(.damaged, path: path.string, "failed authentication: damaged, truncated or moved")
        }
    }
}
