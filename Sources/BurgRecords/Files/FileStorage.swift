import BurgCore
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A file to attach to a record: the client's file name and where the bytes come from.
public struct FileUpload: Sendable {
    public enum Source: Sendable {
        case bytes([UInt8])
        /// Streamed from this path (memory stays flat whatever the size).
        case file(FilePath)
    }
    public var filename: String
    public var source: Source
    public init(filename: String, source: Source) {
        self.filename = filename
        self.source = source
    }
}

/// Record files under `<data dir>/storage/<collectionId>/<recordId>/<name>` — encrypted at rest as
/// `<name>.burgenc` when the data directory has a `files.key`.
///
/// Guarantees: a file is written through ``AtomicFile`` (a crash leaves the old state or the whole new
/// file, never a torn one) and streamed in 1 MiB chunks; stored names are generated (`<safe base>_<10
/// random>.<ext>`) so a client's name can never reach outside the record's directory. A file saved for a
/// record whose transaction then fails is removed; a crash in between leaves an orphan that
/// `burg files check` reports and can delete.
public struct FileStorage: Sendable {
    public static let encryptedSuffix = ".burgenc"
    public let dataDirectory: FilePath

    public init(dataDirectory: FilePath) {
        self.dataDirectory = dataDirectory
    }

    public var root: FilePath { dataDirectory.appending("storage") }

    public func directory(collectionId: String, recordId: String) -> FilePath {
        root.appending(collectionId).appending(recordId)
    }

    /// A name safe to store: letters, digits, `_`, `-` and `.`, not starting with a dot, at most 200 bytes.
    public static func isValidStoredName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 200 && !name.hasPrefix(".") && !name.hasSuffix(encryptedSuffix)
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0)) }
    }

    /// `Knee X-ray (left).PNG` → `knee_x-ray_left_a1b2c3d4e5.PNG`: the base lowercased, the extension's
    /// case kept, as PocketBase names stored files.
    static func storedName(for filename: String) -> String {
        let last = filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let dot = last.lastIndex(of: ".")
        let base = dot.map { String(last[..<$0]) } ?? last
        let ext = dot.map { String(last[last.index(after: $0)...]) } ?? ""
        func clean(_ text: String, limit: Int) -> String {
            var out = ""
            for scalar in text.unicodeScalars {
                if scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-") { out.unicodeScalars.append(scalar) }
                else if !out.hasSuffix("_") { out += "_" }
            }
            return String(out.trimmingCharacters(in: CharacterSet(charactersIn: "_")).prefix(limit))
        }
        let safeBase = clean(base.lowercased(), limit: 100)
        let safeExt = clean(ext, limit: 20).replacingOccurrences(of: "_", with: "")
        let name = (safeBase.isEmpty ? "file" : safeBase) + "_" + String(RecordID.generate().prefix(10))
        return safeExt.isEmpty ? name : name + "." + safeExt
    }

    /// Streams `upload` into the record's directory after checking it against `field` (size, MIME
    /// type); returns the stored name. Nothing is left behind when it throws.
    func save(_ upload: FileUpload, field: Field, collectionId: String, recordId: String, keyring: FileKeyring) throws -> String {
        let name = Self.storedName(for: upload.filename)
        let directory = directory(collectionId: collectionId, recordId: recordId)
        try makeDirectories(directory)
        let encrypted = keyring.current != nil
        let path = directory.appending(encrypted ? name + Self.encryptedSuffix : name)
        let cipher = keyring.current.map { FileCipher(key: $0, place: "\(collectionId)/\(recordId)/\(name)") }
        let maxSize = field.maxSize ?? Int.max
        func refuse(_ code: String, _ message: String) -> RecordValidationError {
            RecordValidationError(collection: "", fields: [field.name: FieldError(code, message)])
        }
        try AtomicFile.write(to: path) { writer in
            var size = 0
            var sealing = try cipher.map { try SealingWriter(cipher: $0, writer: &writer) }
            try Self.stream(upload.source) { chunk in
                if size == 0, !chunk.isEmpty, let allowed = field.mimeTypes, !allowed.isEmpty {
                    let type = MIMEType.detect(Array(chunk.prefix(64)), filename: upload.filename)
                    guard allowed.contains(type) else {
                        throw refuse("validation_invalid_mime_type", "\"\(upload.filename)\" is \(type); allowed: \(allowed.joined(separator: ", ")).")
                    }
                }
                size += chunk.count
                guard size <= maxSize else {
                    throw refuse("validation_file_size_limit", "\"\(upload.filename)\" is larger than \(maxSize) bytes.")
                }
                if sealing != nil { try sealing!.append(chunk, to: &writer) } else { try writer.write(chunk) }
            }
            if size == 0 { throw refuse("validation_empty_file", "\"\(upload.filename)\" is empty.") }
            try sealing?.finish(to: &writer)
        }
        return name
    }

    /// A reader of the stored file (decrypted when it is encrypted); throws ``FileError`` when it is
    /// missing or its encryption key is unavailable.
    public func open(collectionId: String, recordId: String, name: String, keyring: FileKeyring) throws -> StoredFileReader {
        guard Self.isValidStoredName(name) else { throw FileError(.notFound, path: name, "is not a stored file name") }
        let directory = directory(collectionId: collectionId, recordId: recordId)
        let encryptedPath = directory.appending(name + Self.encryptedSuffix)
        let plainPath = directory.appending(name)
        if FileManager.default.fileExists(atPath: encryptedPath.string) {
            return try StoredFileReader(path: encryptedPath, encrypted: true, place: "\(collectionId)/\(recordId)/\(name)", keyring: keyring)
        } else if FileManager.default.fileExists(atPath: plainPath.string) {
            return try StoredFileReader(path: plainPath, encrypted: false, place: "", keyring: keyring)
        } else {
            throw FileError(.notFound, path: plainPath.string, "no such file")
        }
    }

    /// Calls `body` with each chunk of the stored file, decrypted when it is encrypted; throws
    /// ``FileError`` when it is missing, or was damaged or moved.
    public func read(collectionId: String, recordId: String, name: String, keyring: FileKeyring,
                     to body: ([UInt8]) throws -> Void) throws {
        let reader = try open(collectionId: collectionId, recordId: recordId, name: name, keyring: keyring)
        while let chunk = try reader.next() { try body(chunk) }
    }

    /// The whole stored file in memory (for small files and tests; large ones use ``read(collectionId:recordId:name:keyring:to:)``).
    public func contents(collectionId: String, recordId: String, name: String, keyring: FileKeyring) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try read(collectionId: collectionId, recordId: recordId, name: name, keyring: keyring) { bytes += $0 }
        return bytes
    }

    /// Removes stored files of a record (after the change that dropped them committed).
    func remove(collectionId: String, recordId: String, names: [String]) {
        let directory = directory(collectionId: collectionId, recordId: recordId)
        for name in names where Self.isValidStoredName(name) {
            _ = unlink(directory.appending(name).string)
            _ = unlink(directory.appending(name + Self.encryptedSuffix).string)
        }
        _ = rmdir(directory.string)  // only succeeds when empty
    }

    /// Removes a deleted record's directory with everything in it.
    func removeRecord(collectionId: String, recordId: String) {
        try? FileManager.default.removeItem(atPath: directory(collectionId: collectionId, recordId: recordId).string)
    }

    // MARK: I/O

    private func makeDirectories(_ directory: FilePath) throws {
        var path = dataDirectory
        for component in ["storage"] + directory.components.dropFirst(dataDirectory.components.count).dropFirst().map(\.string) {
            path = path.appending(component)
            if mkdir(path.string, 0o700) == 0 {
                // The new entry must survive a crash like the file inside it.
                try AtomicFile.syncDirectory(path.removingLastComponent(), path: path)
            } else if errno != EEXIST {
                let code: FileError.Code = switch errno {
                case ENOSPC, EDQUOT: .noSpace
                case EROFS: .readOnly
                default: .io
                }
                throw FileError(code, path: path.string, "cannot create directory: \(String(cString: strerror(errno)))")
            }
        }
    }

    static func stream(_ source: FileUpload.Source, _ body: ([UInt8]) throws -> Void) throws {
        switch source {
        case .bytes(let bytes):
            var offset = 0
            repeat {
                let end = min(bytes.count, offset + FileCipher.chunkSize)
                try body(Array(bytes[offset..<end]))
                offset = end
            } while offset < bytes.count
        case .file(let path):
            let descriptor: FileDescriptor
            do { descriptor = try FileDescriptor.open(path, .readOnly, options: .closeOnExec) } catch {
                throw FileError(.notFound, path: path.string, "cannot open: \(error)")
            }
            defer { try? descriptor.close() }
            while true {
                let chunk = try readFully(descriptor, count: FileCipher.chunkSize)
                if chunk.isEmpty { return }
                try body(chunk)
                if chunk.count < FileCipher.chunkSize { return }
            }
        }
    }

    /// Up to `count` bytes, fewer only at the end of the file.
    static func readFully(_ descriptor: FileDescriptor, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let read = try buffer.withUnsafeMutableBytes { raw in
                try descriptor.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]), retryOnInterrupt: true)
            }
            if read == 0 { break }
            filled += read
        }
        buffer.removeLast(count - filled)
        return buffer
    }
}
