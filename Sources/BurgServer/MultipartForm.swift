import BurgCore
import BurgRecords
import Foundation
import Hummingbird
import MultipartKit
import NIOCore
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A `multipart/form-data` body, read as it streams in: text parts become values (a repeated name
/// collects all of its values), file parts (those with a `filename`) are spooled to temporary files in
/// `<data dir>/uploads-tmp`, so memory stays flat whatever the upload's size.
///
/// Limits: the whole body (`limit`, 413 above it), each file part (its field's `maxSize`, 400 with the
/// field's error), each text part (1 MiB), and the number of parts (1,000). A body that ends inside a
/// part is refused. The caller must call ``removeSpooledFiles()`` when done; a crash leaves files in
/// `uploads-tmp`, which `burg serve` empties when it starts.
struct MultipartForm {
    static let spoolDirectoryName = "uploads-tmp"
    static let maxTextPart = 1 << 20
    static let maxParts = 1000

    /// Text values per part name, in the order received.
    var values: [String: [String]] = [:]
    /// Uploaded files per part name.
    var files: [String: [FileUpload]] = [:]
    private(set) var spooled: [FilePath] = []

    /// The boundary of a `multipart/form-data` content type, or nil for any other type.
    static func boundary(of contentType: String?) -> String? {
        // Most bodies are JSON: say no before splitting and trimming.
        guard let contentType, contentType.utf8.contains(UInt8(ascii: "=")) else { return nil }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty || value.utf8.count > 200 ? nil : value
            }
        }
        return nil
    }

    /// Reads the request's body. `maxFileSize(name)` gives the largest file accepted for a part name
    /// (nil: only the body limit applies).
    static func read(
        _ request: Request, boundary: String, dataDirectory: FilePath, limit: Int, collection: String,
        maxFileSize: @escaping (String) -> Int?
    ) async throws -> MultipartForm {
        let reader = PartReader(spoolDirectory: dataDirectory.appending(spoolDirectoryName), collection: collection, maxFileSize: maxFileSize)
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in reader.header(name, value) }
        parser.onBody = { buffer in reader.body(&buffer) }
        parser.onPartComplete = { reader.complete() }
        var total = 0
        var headerGuard = MultipartHeaderGuard(boundary: boundary)
        do {
            for try await buffer in request.body {
                total += buffer.readableBytes
                guard total <= limit else { throw APIError(.contentTooLarge, "The request body is too large (limit \(limit) bytes).") }
                guard headerGuard.accepts(buffer.readableBytesView) else {
                    throw APIError(.badRequest, "The multipart body is malformed: a part's header name is not ASCII.")
                }
                do {
                    try parser.execute(buffer)
                } catch let error as APIError {
                    throw error
                } catch let error as RecordValidationError {
                    throw error
                } catch {
                    throw APIError(.badRequest, "The multipart body is malformed.")
                }
                if let failure = reader.failure { throw failure }
            }
            guard reader.finished else { throw APIError(.badRequest, "The multipart body ended before its closing boundary.") }
        } catch {
            reader.discard()
            throw error
        }
        return reader.form
    }

    /// Deletes the spooled copies of the uploads (after they were stored, or refused).
    func removeSpooledFiles() {
        for path in spooled { _ = unlink(path.string) }
    }

    /// The parser's callbacks write into this one object (the parser is driven by one task).
    private final class PartReader {
        let spoolDirectory: FilePath
        let collection: String
        let maxFileSize: (String) -> Int?
        var form = MultipartForm()
        var failure: (any Error)?
        var finished = false
        private var headers: [(String, String)] = []
        private var current: Part?
        private var parts = 0

        enum Part {
            case text(name: String, bytes: [UInt8])
            case file(name: String, filename: String, descriptor: SystemPackage.FileDescriptor, path: FilePath, size: Int, pending: [UInt8])
        }

        init(spoolDirectory: FilePath, collection: String, maxFileSize: @escaping (String) -> Int?) {
            self.spoolDirectory = spoolDirectory
            self.collection = collection
            self.maxFileSize = maxFileSize
        }

        func header(_ name: String, _ value: String) {
            if current != nil { finishPart() }
            headers.append((name.lowercased(), value))
        }

        func body(_ buffer: inout ByteBuffer) {
            guard failure == nil else { return }
            if current == nil { startPart() }
            guard let part = current else { return }
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            switch part {
            case .text(let name, var text):
                text += bytes
                guard text.count <= MultipartForm.maxTextPart else {
                    return fail(APIError(.contentTooLarge, "The form value \"\(name)\" is larger than 1 MiB."))
                }
                current = .text(name: name, bytes: text)
            case .file(let name, let filename, let descriptor, let path, var size, var pending):
                size += bytes.count
                if let max = maxFileSize(name), size > max {
                    return fail(RecordValidationError(collection: collection, fields: [
                        name: FieldError("validation_file_size_limit", "\"\(filename)\" is larger than \(max) bytes."),
                    ]))
                }
                pending += bytes
                if pending.count >= 256 << 10 {
                    do { try descriptor.writeAll(pending) } catch { return fail(error) }
                    pending.removeAll(keepingCapacity: true)
                }
                current = .file(name: name, filename: filename, descriptor: descriptor, path: path, size: size, pending: pending)
            }
        }

        func complete() {
            guard failure == nil else { return }
            if current == nil, !headers.isEmpty { startPart() }  // an empty part
            finishPart()
            finished = true  // until the next part starts; the closing boundary leaves it set
        }

        private func startPart() {
            finished = false
            parts += 1
            guard parts <= MultipartForm.maxParts else {
                return fail(APIError(.badRequest, "The multipart body has more than \(MultipartForm.maxParts) parts."))
            }
            let disposition = headers.first { $0.0 == "content-disposition" }?.1 ?? ""
            headers = []
            let parameters = MultipartForm.dispositionParameters(disposition)
            guard let name = parameters["name"], !name.isEmpty else {
                return fail(APIError(.badRequest, "A multipart part has no form-data name."))
            }
            guard let filename = parameters["filename"] else {
                current = .text(name: name, bytes: [])
                return
            }
            do {
                try MultipartForm.makeDirectory(spoolDirectory)
                let path = spoolDirectory.appending("upload-" + RecordID.generate())
                let descriptor = try SystemPackage.FileDescriptor.open(
                    path, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec], permissions: [.ownerReadWrite])
                form.spooled.append(path)
                current = .file(name: name, filename: filename, descriptor: descriptor, path: path, size: 0, pending: [])
            } catch {
                fail(error)
            }
        }

        private func finishPart() {
            guard let part = current else { return }
            current = nil
            switch part {
            case .text(let name, let bytes):
                form.values[name, default: []].append(String(decoding: bytes, as: UTF8.self))
            case .file(let name, let filename, let descriptor, let path, _, let pending):
                do {
                    try descriptor.writeAll(pending)
                    try descriptor.close()
                } catch {
                    return fail(error)
                }
                // An empty file input that a browser sends with `filename=""` is not an upload.
                if !filename.isEmpty {
                    form.files[name, default: []].append(FileUpload(filename: filename, source: .file(path)))
                }
            }
        }

        func fail(_ error: any Error) {
            if failure == nil { failure = error }
        }

        /// Closes and removes whatever was spooled (the request failed).
        func discard() {
            if case .file(_, _, let descriptor, _, _, _)? = current { try? descriptor.close() }
            current = nil
            form.removeSpooledFiles()
        }
    }

    /// `form-data; name="a"; filename="b.png"` → ["name": "a", "filename": "b.png"]; quoted values may
    /// escape `"` and `\`; `filename*=UTF-8''…` (RFC 5987) wins over `filename`.
    static func dispositionParameters(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        var scalars = Substring(header)
        // Skip the disposition type.
        if let semicolon = scalars.firstIndex(of: ";") { scalars = scalars[scalars.index(after: semicolon)...] } else { return [:] }
        while !scalars.isEmpty {
            scalars = scalars.drop { $0 == " " || $0 == "\t" || $0 == ";" }
            guard let equals = scalars.firstIndex(of: "=") else { break }
            let key = scalars[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            scalars = scalars[scalars.index(after: equals)...]
            var value = ""
            if scalars.first == "\"" {
                scalars = scalars.dropFirst()
                var escaped = false
                while let character = scalars.first {
                    scalars = scalars.dropFirst()
                    if escaped { value.append(character); escaped = false }
                    else if character == "\\" { escaped = true }
                    else if character == "\"" { break }
                    else { value.append(character) }
                }
            } else {
                let end = scalars.firstIndex(of: ";") ?? scalars.endIndex
                value = scalars[..<end].trimmingCharacters(in: .whitespaces)
                scalars = scalars[end...]
            }
            if key == "filename*" {
                let pieces = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                if pieces.count == 3, let decoded = String(pieces[2]).removingPercentEncoding { result["filename"] = decoded }
            } else if key == "filename", result["filename"] != nil, header.lowercased().contains("filename*") {
                continue
            } else {
                result[key] = value
            }
        }
        return result
    }

    static func makeDirectory(_ path: FilePath) throws {
        if mkdir(path.string, 0o700) != 0 && errno != EEXIST {
            throw Errno(rawValue: errno)
        }
    }

    /// Empties `<data dir>/uploads-tmp` (what a killed server left behind); called at start-up.
    static func removeLeftovers(dataDirectory: FilePath) {
        let directory = dataDirectory.appending(spoolDirectoryName)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.string)) ?? [] where name.hasPrefix("upload-") {
            _ = unlink(directory.appending(name).string)
        }
    }
}
