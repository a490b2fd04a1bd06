import BurgCore
import Crypto
import Foundation

/// The encrypted file format: streamed AES-256-GCM in 1 MiB chunks, so a file of any size is written and
/// read with flat memory.
///
/// `"BURGFE01"` · key id (8 bytes) · nonce prefix (8 random bytes), then chunks of ciphertext + 16-byte tag.
/// Chunk *n* is sealed with nonce = prefix · n (big-endian, 4 bytes) and authenticated data = header ·
/// the file's place (`collectionId/recordId/name`) · final flag. Every chunk but the last is exactly full;
/// the last is shorter (an empty one follows a full last chunk). So a reordered, truncated, extended or
/// moved file fails authentication instead of decrypting to something else.
struct FileCipher {
    static let magic = Array("BURGFE01".utf8)
    static let headerSize = 24
    static let chunkSize = 1 << 20
    static let tagSize = 16

    let key: FileKey
    let header: [UInt8]
    let place: [UInt8]
    private var counter: UInt32 = 0

    /// For writing: a fresh random nonce prefix.
    init(key: FileKey, place: String) {
        var prefix = [UInt8](repeating: 0, count: 8)
        var generator = SystemRandomNumberGenerator()
        for index in prefix.indices { prefix[index] = UInt8.random(in: 0...255, using: &generator) }
        self.init(key: key, header: Self.magic + key.id + prefix, place: place)
    }

    /// For reading: the header found at the start of the file.
    init(key: FileKey, header: [UInt8], place: String) {
        self.key = key
        self.header = header
        self.place = Array(place.utf8)
    }

    /// The key id in a header, or nil when `header` is not one.
    static func keyID(inHeader header: [UInt8]) -> [UInt8]? {
        guard header.count == headerSize, Array(header.prefix(8)) == magic else { return nil }
        return Array(header[8..<16])
    }

    private func nonce(_ index: UInt32) throws -> AES.GCM.Nonce {
        try AES.GCM.Nonce(data: Array(header[16..<24]) + withUnsafeBytes(of: index.bigEndian) { Array($0) })
    }

    private func authenticated(final: Bool) -> [UInt8] { header + place + [final ? 1 : 0] }

    /// Seals the next chunk (`plaintext.count` must be `chunkSize` unless `final`).
    mutating func seal(_ plaintext: some DataProtocol, final: Bool) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key.key, nonce: try nonce(counter), authenticating: authenticated(final: final))
        counter += 1
        return Array(box.ciphertext) + Array(box.tag)
    }

    /// Opens the next chunk; throws when it was altered, moved or is out of place.
    mutating func open(_ sealed: [UInt8], final: Bool) throws -> [UInt8] {
        guard sealed.count >= Self.tagSize else { throw CryptoKitError.authenticationFailure }
        let box = try AES.GCM.SealedBox(
            nonce: try nonce(counter), ciphertext: sealed.dropLast(Self.tagSize), tag: sealed.suffix(Self.tagSize))
        counter += 1
        return Array(try AES.GCM.open(box, using: key.key, authenticating: authenticated(final: final)))
    }
}

/// Writes an encrypted file through an ``AtomicFile`` writer: the header, then plaintext sealed chunk by
/// chunk as it fills, then the final (short) chunk.
struct SealingWriter {
    private var cipher: FileCipher
    private var pending: [UInt8] = []

    init(cipher: FileCipher, writer: inout AtomicFile.Writer) throws {
        self.cipher = cipher
        try writer.write(cipher.header)
    }

    mutating func append(_ bytes: [UInt8], to writer: inout AtomicFile.Writer) throws {
        pending += bytes
        var start = 0
        while pending.count - start >= FileCipher.chunkSize {
            try writer.write(try cipher.seal(pending[start..<start + FileCipher.chunkSize], final: false))
            start += FileCipher.chunkSize
        }
        pending.removeFirst(start)
    }

    mutating func finish(to writer: inout AtomicFile.Writer) throws {
        try writer.write(try cipher.seal(pending, final: true))
        pending = []
    }
}
