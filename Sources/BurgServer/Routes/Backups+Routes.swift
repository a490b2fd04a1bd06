import BurgAuth
import BurgBackup
import BurgCore
import BurgRecords
import BurgStore
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import SystemPackage

/// PocketBase's `/api/backups` over Burg's backups in `<data dir>/backups`, for superusers: list, create
/// (a verified archive, as `burg backup create` makes), download with a superuser's file token, upload,
/// delete, restore. One create, upload or restore at a time per server (PocketBase's 400 otherwise).
struct BackupsRoutes: Sendable {
    let store: Store
    let auth: RequestAuth
    let authenticator: Authenticator
    /// Starts a restore that stops this server, replaces the data directory and starts the server
    /// again (`burg serve` provides it); nil: restores are done with `burg backup restore`.
    let restore: (@Sendable (FilePath) throws -> Void)?
    private let busy = BusyFlag()

    init(store: Store, auth: RequestAuth, authenticator: Authenticator, restore: (@Sendable (FilePath) throws -> Void)?) {
        self.store = store
        self.auth = auth
        self.authenticator = authenticator
        self.restore = restore
    }

    var archives: BackupArchives { BackupArchives(dataDirectory: store.configuration.dataDirectory) }

    func add(to router: Router<BurgRequestContext>) {
        router.get("api/backups") { request, context in try await list(request, context) }
        router.post("api/backups") { request, context in try await create(request, context) }
        router.post("api/backups/upload") { request, context in try await upload(request, context) }
        router.get("api/backups/:key") { request, context in try await download(request, context) }
        router.delete("api/backups/:key") { request, context in try await delete(request, context) }
        router.post("api/backups/:key/restore") { request, context in try await restore(request, context) }
    }

    func list(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        _ = try await auth.requireSuperuser(request, context, forbidden: .notAllowed)
        let archives = self.archives
        let files = try await BlockingWork.run { archives.list() }
        return .json(.array(files.map { file in
            .object(["key": .string(file.key), "modified": .string(FilterSQL.formatDate(file.modified)), "size": .number(Double(file.size))])
        }))
    }

    func create(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        _ = try await auth.requireSuperuser(request, context, forbidden: .notAllowed)
        let body = try await request.jsonObject(context: context)
        var name: String?
        switch body["name"] {
        case nil, .null?: break
        case .string(let text)? where text.isEmpty: break
        case .string(let text)? where BackupArchives.isValidName(text): name = text
        default: throw Self.invalid("name", "validation_match_invalid", "Must be in a valid format.")
        }
        if let name, archives.file(named: name) != nil {
            throw Self.invalid("name", "validation_backup_name_exists", "The backup file name is invalid or already exists.")
        }
        let chosen = name
        try await busy.run {
            let creator = BackupCreator(store: store, dataDirectory: store.configuration.dataDirectory, knownMigrations: store.migrations.identifiers)
            _ = try await BlockingWork.run { try creator.create(name: chosen) }
        }
        return Response(status: .noContent)
    }

    func upload(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        _ = try await auth.requireSuperuser(request, context, forbidden: .notAllowed)
        guard let boundary = MultipartForm.boundary(of: request.headers[.contentType]) else {
            throw Self.invalid("file", "validation_required", "Cannot be blank.")
        }
        let form = try await MultipartForm.read(request, boundary: boundary, dataDirectory: store.configuration.dataDirectory,
                                                limit: context.maxUploadSize, collection: "backups") { _ in nil }
        defer { form.removeSpooledFiles() }
        guard let file = form.files["file"]?.first, case .file(let spooled) = file.source else {
            throw Self.invalid("file", "validation_required", "Cannot be blank.")
        }
        let name = file.filename
        guard BackupArchives.isValidName(name) else {
            throw Self.invalid("file", "validation_match_invalid", "\"\(name)\" is not a valid backup name: lowercase letters, digits, _, - and ., ending in .zip.")
        }
        let archives = self.archives
        try await busy.run {
            let added = try await BlockingWork.run { () throws -> Bool in
                // A zip begins with a local file header (PK\u{3}\u{4}); anything else is refused unread.
                let descriptor = try FileDescriptor.open(spooled, .readOnly, options: .closeOnExec)
                let head = try descriptor.closeAfter { () throws -> [UInt8] in
                    try [UInt8](unsafeUninitializedCapacity: 4) { buffer, count in count = try descriptor.read(into: UnsafeMutableRawBufferPointer(buffer)) }
                }
                guard head == [0x50, 0x4B, 0x03, 0x04] else {
                    throw Self.invalid("file", "validation_invalid_mime_type", "\"\(name)\" mime type must be one of: application/zip.")
                }
                return try archives.add(spooled, as: name)
            }
            guard added else {
                throw Self.invalid("file", "validation_backup_name_exists", "Backup file with the specified name already exists.")
            }
        }
        return Response(status: .noContent)
    }

    func download(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let key = try context.parameters.require("key")
        let refused = APIError(.forbidden, "Insufficient permissions to access the resource.")
        // A superuser's file token (`POST /api/files/token`) in `?token=`, as PocketBase: a link works in
        // a browser's download, and an Authorization header alone does not open it.
        guard let token = request.formQuery["token"], !token.isEmpty,
              let identity = try? await authenticator.verify(fileToken: token), identity.isSuperuser else { throw refused }
        let archives = self.archives
        guard let file = try await BlockingWork.run({ archives.file(named: key) }) else { throw APIError.notFound }
        let descriptor = try await BlockingWork.run { try FileDescriptor.open(archives.path(of: key), .readOnly, options: .closeOnExec) }
        let reader = PlainFileChunks(descriptor)
        var headers = HTTPFields()
        headers[.contentType] = key.hasSuffix(".enc") ? "application/octet-stream" : "application/zip"
        headers[.contentDisposition] = "attachment; filename=\"\(key)\""
        headers[.xContentTypeOptions] = "nosniff"
        headers[.contentSecurityPolicy] = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
        headers[.cacheControl] = "private, no-store"
        headers[.xFrameOptions] = "SAMEORIGIN"
        headers[.lastModified] = Self.httpDate(file.modified)
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: Int(file.size)) { writer in
            defer { reader.close() }
            while let chunk = try await reader.next() {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        })
    }

    func delete(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        _ = try await auth.requireSuperuser(request, context, forbidden: .notAllowed)
        let key = try context.parameters.require("key")
        let archives = self.archives
        guard try await BlockingWork.run({ try archives.delete(key) }) else {
            throw APIError(.badRequest, "Invalid or already deleted backup file \"\(key)\": there is no archive of that name in the backups directory.")
        }
        return Response(status: .noContent)
    }

    func restore(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        _ = try await auth.requireSuperuser(request, context, forbidden: .notAllowed)
        let key = try context.parameters.require("key")
        let archives = self.archives
        guard try await BlockingWork.run({ archives.file(named: key) }) != nil else {
            throw APIError(.badRequest, "Missing or invalid backup file.")
        }
        // An archive whose verification failed is refused here rather than after the server stopped.
        let store = self.store
        let known = try await BlockingWork.run { try BackupInventory(store: store).list().first { $0.file == key } }
        if let known, known.status == .failed {
            throw APIError(.badRequest, "The backup \"\(key)\" failed its verification (\(known.error)); restore another one.")
        }
        guard let restore else {
            throw APIError(.badRequest, "This server cannot restore itself; run: burg backup restore \(archives.path(of: key).string) --restart")
        }
        try await busy.run { try restore(archives.path(of: key)) }
        return Response(status: .noContent)
    }

    /// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    static func invalid(_ field: String, _ code: String, _ message: String) -> APIError {
        APIError(.badRequest, "An error occurred while validating the submitted data.", data: [field: FieldError(code, message)])
    }
}

/// One backup operation at a time in this server.
final class BusyFlag: Sendable {
    private let running = Mutex(false)

    func run(_ body: () async throws -> Void) async throws {
        let taken = running.withLock { running in
            defer { running = true }
            return !running
        }
        guard taken else {
            throw APIError(.badRequest, "Try again later - another backup/restore operation has already been started.")
        }
        defer { running.withLock { $0 = false } }
        try await body()
    }
}

/// A plain file read in 1 MiB chunks off the cooperative pool, for a streamed response.
final class PlainFileChunks: Sendable {
    private let descriptor: Mutex<FileDescriptor?>

    init(_ descriptor: FileDescriptor) {
        self.descriptor = Mutex(descriptor)
    }

    func next() async throws -> [UInt8]? {
        try await BlockingWork.run {
            try self.descriptor.withLock { descriptor -> [UInt8]? in
                guard let file = descriptor else { return nil }
                let chunk = try [UInt8](unsafeUninitializedCapacity: 1 << 20) { buffer, count in
                    count = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
                }
                return chunk.isEmpty ? nil : chunk
            }
        }
    }

    func close() {
        descriptor.withLock { descriptor in
            try? descriptor?.close()
            descriptor = nil
        }
    }
}
