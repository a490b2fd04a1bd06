@testable import BurgServer
import BurgRecords
import Foundation
import Hummingbird
import NIOCore
import Synchronization
import SystemPackage

/// The multipart/form-data reader as Burg's upload routes use it (MultipartKit's streaming parser fed
/// the body in chunks of a size the input picks). Two modes, chosen by the first byte:
/// - raw: the input is the body. Invariants: it is read or refused with a 4xx `APIError` or a
///   `RecordValidationError` (never a 5xx or another error), and no spooled file is left behind either way.
/// - structured: the input describes text and file parts, the harness writes a well-formed body from
///   them. Invariants: every text value and every file (name and bytes) comes back in order, a file over
///   its field's size limit is refused with a `RecordValidationError`, and nothing is left in the spool folder.
enum MultipartHarness {
    static let boundary = "xYz"
    static let structuredBoundary = "burg-fuzz-7f3a9c21e0"
    static let dataDirectory = FilePath(temporaryDirectory("multipart").path)
    static let spool = dataDirectory.appending(MultipartForm.spoolDirectoryName)
    /// Files of part `small` may hold 16 bytes.
    static let smallLimit = 16

    static func run(_ input: [UInt8]) {
        guard input.count >= 2 else { return }
        let chunkSize = Int(input[1] % 64) + 1
        if input[0] & 1 == 0 {
            _ = read(Array(input.dropFirst(2)), boundary: boundary, chunkSize: chunkSize)
        } else {
            structured(Array(input.dropFirst(2)), chunkSize: chunkSize)
        }
    }

    struct Part {
        var name: String
        var filename: String?
        var content: [UInt8]
    }

    static func structured(_ input: [UInt8], chunkSize: Int) {
        let names = ["a", "b", "small", "files"]
        let filenames = ["x.bin", "", "y z.txt", "ü.png"]
        var parts: [Part] = []
        var index = 0
        while index + 2 <= input.count, parts.count < 8 {
            let kind = input[index]
            let length = min(Int(input[index + 1]), input.count - index - 2)
            let content = Array(input[(index + 2)..<(index + 2 + length)])
            index += 2 + length
            let isFile = kind & 0x80 != 0
            parts.append(Part(name: names[Int(kind & 3)], filename: isFile ? filenames[Int((kind >> 2) & 3)] : nil, content: content))
        }
        var body: [UInt8] = []
        for part in parts {
            var head = "--\(structuredBoundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { head += "; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream" }
            body += Array((head + "\r\n\r\n").utf8) + part.content + Array("\r\n".utf8)
        }
        body += Array("--\(structuredBoundary)--\r\n".utf8)
        // A content holding the boundary would end its part early: not a well-formed body.
        let marker = Array("--\(structuredBoundary)".utf8)
        guard !parts.contains(where: { contains($0.content, marker) }) else { return }
        if parts.isEmpty { return }

        let oversized = parts.contains { $0.filename != nil && $0.name == "small" && $0.content.count > smallLimit }
        let outcome = read(body, boundary: structuredBoundary, chunkSize: chunkSize)
        if oversized {
            require(outcome == .refusedAsInvalid, "a file over the size limit was \(outcome)")
            return
        }
        guard case .read(let values, let files) = outcome else {
            require(false, "a well-formed body of \(parts.count) parts was \(outcome): \(String(decoding: body, as: UTF8.self).debugDescription)")
            return
        }
        var expectedValues: [String: [String]] = [:]
        var expectedFiles: [String: [ReadFile]] = [:]
        for part in parts {
            if let filename = part.filename {
                if !filename.isEmpty { expectedFiles[part.name, default: []].append(ReadFile(filename: filename, content: part.content)) }
            } else {
                expectedValues[part.name, default: []].append(String(decoding: part.content, as: UTF8.self))
            }
        }
        require(values == expectedValues, "text values \(values) instead of \(expectedValues)")
        require(files == expectedFiles, "files \(files) instead of \(expectedFiles)")
    }

    struct ReadFile: Equatable, Sendable {
        var filename: String
        var content: [UInt8]
    }

    enum Outcome: Equatable, Sendable {
        case read(values: [String: [String]], files: [String: [ReadFile]])
        case refused(status: Int)
        case refusedAsInvalid
    }

    /// Reads `body` as the upload route does; checks the error kinds and that no spooled file remains.
    static func read(_ body: [UInt8], boundary: String, chunkSize: Int) -> Outcome {
        let chunks = stride(from: 0, to: body.count, by: chunkSize).map { ByteBuffer(bytes: body[$0..<min($0 + chunkSize, body.count)]) }
        let outcome = runBlocking { () async -> Outcome in
            let stream = AsyncStream<ByteBuffer> { continuation in
                for chunk in chunks { continuation.yield(chunk) }
                continuation.finish()
            }
            let request = Request(
                head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/api/collections/posts/records"),
                body: RequestBody(asyncSequence: stream))
            do {
                let form = try await MultipartForm.read(request, boundary: boundary, dataDirectory: dataDirectory, limit: 1 << 20,
                    collection: "posts", maxFileSize: { $0 == "small" ? smallLimit : nil })
                var files: [String: [ReadFile]] = [:]
                for (name, uploads) in form.files {
                    files[name] = uploads.map { upload in
                        guard case .file(let path) = upload.source, let content = contents(path) else {
                            require(false, "the upload \(upload.filename) of \(name) has no spooled file")
                            return ReadFile(filename: upload.filename, content: [])
                        }
                        return ReadFile(filename: upload.filename, content: content)
                    }
                }
                form.removeSpooledFiles()
                return .read(values: form.values, files: files)
            } catch let error as APIError {
                require(error.status.code >= 400 && error.status.code < 500, "a multipart body answered \(error.status.code): \(error.message)")
                return .refused(status: error.status.code)
            } catch is RecordValidationError {
                return .refusedAsInvalid
            } catch {
                unexpected(error, "reading a multipart body")
            }
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: spool.string)) ?? []
        require(left.isEmpty, "spooled files left behind: \(left)")
        return outcome
    }

    /// A spooled file's bytes (read with SystemPackage: Foundation's `FileManager.contents(atPath:)` leaks
    /// its read buffer on Linux, which LeakSanitizer would report on every run).
    static func contents(_ path: FilePath) -> [UInt8]? {
        guard let descriptor = try? FileDescriptor.open(path, .readOnly) else { return nil }
        defer { try? descriptor.close() }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            guard let count = try? chunk.withUnsafeMutableBytes({ try descriptor.read(into: $0) }) else { return nil }
            if count == 0 { return result }
            result += chunk[..<count]
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

/// Runs `body` to completion from a synchronous caller (libFuzzer's thread, not the cooperative pool).
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let slot = Slot<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        let value = await body()
        slot.value.withLock { $0 = value }
        done.signal()
    }
    done.wait()
    return slot.value.withLock { $0! }
}

/// Where the task leaves its result for the waiting thread.
final class Slot<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
}
