import BurgAuth
import BurgRecords
import BurgStore
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// `/api/files/{collection}/{recordId}/{name}` serves a record's stored file, and `POST /api/files/token`
/// issues the short-lived file token that protected files need (PocketBase's routes).
///
/// Only a name that one of the record's file fields holds is served (no orphan, nothing outside the
/// record's directory: stored names are checked against a strict pattern first). A protected field's
/// files need `?token=` from a caller the collection's view rule admits; others are served to anyone
/// with the URL. Responses stream in 1 MiB chunks with the type taken from the content, `nosniff` and a
/// sandboxing content security policy (an uploaded page cannot run script on the API's origin).
struct FilesRoutes: Sendable {
    let store: Store
    let auth: RequestAuth
    let authenticator: Authenticator

    func add(to router: Router<BurgRequestContext>) {
        router.post("api/files/token") { request, context in try await token(request, context) }
        router.get("api/files/:collection/:id/:name") { request, context in try await file(request, context) }
    }

    func token(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        guard let identity = try await auth.identity(request, context) else {
            throw APIError(.unauthorized, "The request requires valid record authorization token.")
        }
        return .json(.object(["token": .string(try await authenticator.fileToken(for: identity))]))
    }

    func file(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let collectionName = try context.parameters.require("collection")
        let id = try context.parameters.require("id")
        let name = try context.parameters.require("name")
        guard FileStorage.isValidStoredName(name), RecordID.isValid(id) else { throw APIError.notFound }
        let store = self.store
        let records = RecordStore(store: store)
        let (collection, record) = try await BlockingWork.run {
            let collection = try CollectionRegistry(store: store).get(collectionName)
            return (collection, try records.get(collection.name, id: id))
        }
        guard let field = collection.fields.first(where: { field in
            field.type == .file && FileModifiers.storedNames(record.values[field.name]).contains(name)
        }) else { throw APIError.notFound }

        if field.protected {
            guard let token = request.formQuery["token"], !token.isEmpty else {
                throw APIError(.forbidden, "This file is protected: add ?token= from POST /api/files/token.")
            }
            let identity = try await authenticator.verify(fileToken: token)
            // The view rule decides, as for the record itself (hidden, or superusers only: 404).
            switch AccessPolicy.decide(.view, on: collection, for: RecordCaller(identity)) {
            case .unrestricted: break
            case .superusersOnly: throw APIError.notFound
            case .matching(let access):
                _ = try await BlockingWork.run { try records.get(collection.name, id: id, access: access) }
            }
        }

        let reader = try await BlockingWork.run { () -> FileChunks in
            let keyring = try FileKeyring.load(store.configuration.dataDirectory)
            return FileChunks(try records.files.open(collectionId: collection.id, recordId: id, name: name, keyring: keyring))
        }
        let first = try await reader.next() ?? []
        var headers = HTTPFields()
        headers[.contentType] = MIMEType.detect(Array(first.prefix(64)), filename: name)
        let download = ["1", "true"].contains(request.formQuery["download"] ?? "")
        headers[.contentDisposition] = "\(download ? "attachment" : "inline"); filename=\"\(name)\""
        headers[.xContentTypeOptions] = "nosniff"
        headers[.contentSecurityPolicy] = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
        // A stored name never gets other bytes (a new upload gets a new name), so public files cache for good.
        headers[.cacheControl] = field.protected ? "private, no-cache" : "public, max-age=2592000, immutable"
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: reader.size) { writer in
            if !first.isEmpty { try await writer.write(ByteBuffer(bytes: first)) }
            while let chunk = try await reader.next() {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        })
    }
}

/// A ``StoredFileReader`` that a response body can pull from: each chunk is read off the cooperative pool,
/// one at a time (the mutex makes the reader safe to hand between the threads that take turns).
final class FileChunks: Sendable {
    let size: Int
    private let reader: Mutex<StoredFileReader>

    init(_ reader: sending StoredFileReader) {
        size = reader.size
        self.reader = Mutex(reader)
    }

    func next() async throws -> [UInt8]? {
        try await BlockingWork.run { try self.reader.withLock { try $0.next() } }
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
}
