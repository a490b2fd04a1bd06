import BurgAuth
import BurgCore
import BurgRecords
import BurgStore
import Foundation
import Hummingbird

/// `/api/collections/{collection}/records[/{id}]`: PocketBase's records API. Every operation runs the
/// collection's access rule for the caller (superusers skip rules): a `nil` rule is superusers only,
/// `""` anyone, otherwise a filter the record must match, compiled into the same parameterised SQL.
struct RecordsRoutes: Sendable {
    let store: Store
    let auth: RequestAuth
    let authenticator: Authenticator
    /// The largest multipart body (files included) a create or update may send.
    var maxUploadSize = ServerConfiguration().maxUploadSize

    var records: RecordStore { RecordStore(store: store) }

    /// A record store whose writes append an audit entry (actor, action, record, the names of the fields
    /// sent — never their values) in the same transaction.
    func audited(_ identity: AuthIdentity?, _ context: BurgRequestContext, fields: [String] = []) -> RecordStore {
        let audit = authenticator.audit
        let actor = AuditEntry.actor(identity)
        let ip = context.clientIP
        let names = fields.sorted()
        return RecordStore(store: store) { db, action, collection, id in
            try audit.append(AuditEntry(action: "record.\(action.rawValue)", actor: actor, collection: collection.name,
                                        recordId: id, fields: names, ip: ip), db: db)
        }
    }

    func add(to router: Router<BurgRequestContext>) {
        let group = router.group("api/collections/:collection/records")
        group.get { request, context in try await list(request, context) }
        group.get(":id") { request, context in try await view(request, context) }
        group.post { request, context in try await create(request, context) }
        group.patch(":id") { request, context in try await update(request, context) }
        group.delete(":id") { request, context in try await delete(request, context) }
    }

    /// The access check ``AccessPolicy`` gives this caller for `action`: nil when there is none;
    /// throws 403 for a superusers-only action.
    private func access(_ action: RecordAction, _ collection: CollectionModel, _ caller: RecordCaller) throws -> RecordAccess? {
        try AccessPolicy.decide(action, on: collection, for: caller).required(in: collection)
    }

    private func collection(_ context: BurgRequestContext) async throws -> CollectionModel {
        let name = try context.parameters.require("collection")
        let store = self.store
        return try await Self.blocking { try CollectionRegistry(store: store).get(name) }
    }

    func list(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let caller = RecordCaller(try await auth.identity(request, context))
        let name = try context.parameters.require("collection")
        let parameters = request.formQuery
        var query = ListQuery()
        (query.page, query.perPage) = try Self.paging(parameters)
        query.filter = parameters["filter"] ?? ""
        query.sort = parameters["sort"] ?? ""
        query.skipTotal = ["1", "true"].contains(parameters["skipTotal"] ?? "")
        query.cursor = parameters["cursor"]
        query.context = caller.context
        let records = self.records
        let finalQuery = query
        // One hop off the event loop and one read transaction for the collection, its rule and the page.
        let (collection, result) = try await Self.blocking {
            try records.list(name, finalQuery, rule: { collection in try access(.list, collection, caller)?.rule })
        }
        var page: [String: JSONValue] = [
            "page": .number(Double(result.page)), "perPage": .number(Double(result.perPage)),
            "totalItems": .number(Double(result.totalItems)), "totalPages": .number(Double(result.totalPages)),
            "items": .array(try await shape(result.items, collection, caller, parameters)),
        ]
        if let next = result.nextCursor { page["nextCursor"] = .string(next) }
        return .json(.object(page))
    }

    /// `page` and `perPage` as PocketBase reads them: a whole number below 1 means the default (page 1,
    /// 30 per page), a `perPage` above ``ListQuery/maxPerPage`` is lowered to it. Beyond PocketBase, a
    /// page past ``ListQuery/maxPage`` (whose offset would overflow) and anything that is not a whole
    /// number is a 400 naming the parameter (docs/COMPATIBILITY.md).
    static func paging(_ parameters: [String: String]) throws -> (page: Int, perPage: Int) {
        let page = try parameters["page"].map { try BoundedNumber.integer($0, "page", in: Int.min...ListQuery.maxPage) } ?? 1
        let perPage = try parameters["perPage"].map { try BoundedNumber.integer($0, "perPage", in: Int.min...Int.max) } ?? 30
        return (max(page, 1), perPage < 1 ? 30 : min(perPage, ListQuery.maxPerPage))
    }

    func view(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let caller = RecordCaller(try await auth.identity(request, context))
        let name = try context.parameters.require("collection")
        let id = try context.parameters.require("id")
        let records = self.records
        let (collection, record) = try await Self.blocking {
            try records.get(name, id: id, access: { collection in try access(.view, collection, caller) })
        }
        return .json(try await shape([record], collection, caller, request.formQuery)[0])
    }

    /// The body of a create or update (JSON, or multipart with files); `RecordBody.cleanUp()` after use.
    private func body(_ request: Request, _ context: BurgRequestContext, _ collection: CollectionModel) async throws -> RecordBody {
        try await RecordBody.read(request, context: context, collection: collection,
                                  dataDirectory: store.configuration.dataDirectory, limit: maxUploadSize)
    }

    func create(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let identity = try await auth.identity(request, context)
        let collection: CollectionModel
        let input: RecordBody
        if MultipartForm.boundary(of: request.headers[.contentType]) == nil {
            let object = try await request.jsonObject(context: context)
            if let created = try await createFromJSON(object, identity, context) { return created }
            collection = try await self.collection(context)
            input = RecordBody(json: object, collection: collection)
        } else {
            collection = try await self.collection(context)
            input = try await body(request, context, collection)
        }
        defer { input.cleanUp() }
        let body = input.values
        let files = input.files
        let caller = RecordCaller(identity)
        let access = try self.access(.create, collection, caller.with(body: body))
        let record: RecordModel
        if collection.type == .auth {
            // Passwords are hashed and checked by the authenticator. A non-empty create rule is checked
            // on the stored record, which is removed again if it fails (not atomic: a crash in between
            // leaves the account; the default `users` rule is empty, so this path is rare).
            record = try await authenticator.createRecord(collection: collection.name, values: body, files: files, by: identity)
            if let access {
                do {
                    _ = try await records.get(collection.name, id: record.id, access: access)
                } catch {
                    try? await records.delete(collection.name, id: record.id)
                    throw BurgRecords.RecordError(.forbidden, collection: collection.name, message: "the create rule does not allow it")
                }
            }
        } else {
            let records = audited(identity, context, fields: Array(body.keys) + Array(files.keys))
            record = try await Self.blocking { try records.create(collection.name, body, files: files, access: access) }
        }
        return .json(RecordPresenter.present(record, collection, for: caller))
    }

    /// The common create — a JSON body for a base collection — in one write transaction that reads the
    /// collection, checks the caller may create and inserts, with no read before it. Nil when the
    /// general path must do it: an auth collection (passwords go through the authenticator) or a body
    /// with `name-` keys (file modifiers, which need the collection's fields to be told apart).
    private func createFromJSON(
        _ object: [String: JSONValue], _ identity: AuthIdentity?, _ context: BurgRequestContext
    ) async throws -> Response? {
        guard !object.keys.contains(where: { $0.hasSuffix("-") }) else { return nil }
        let name = try context.parameters.require("collection")
        let records = audited(identity, context, fields: Array(object.keys))
        let caller = RecordCaller(identity)
        do {
            // Async: the request waits for its group commit without holding a thread.
            let (collection, record) = try await records.create(name, object) { collection in
                guard collection.type != .auth else { throw AuthCollectionCreate() }
                return try access(.create, collection, caller.with(body: object))
            }
            return .json(RecordPresenter.present(record, collection, for: caller))
        } catch is AuthCollectionCreate {
            return nil
        }
    }

    /// Thrown inside ``createFromJSON(_:_:_:)``'s write (rolling it back before anything is written)
    /// when the collection turns out to be an auth collection.
    private struct AuthCollectionCreate: Error {}

    func update(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let identity = try await auth.identity(request, context)
        let collection = try await collection(context)
        let id = try context.parameters.require("id")
        let caller = RecordCaller(identity)
        _ = try access(.update, collection, caller)  // a superusers-only refusal comes before any upload is read
        var input = try await body(request, context, collection)
        defer { input.cleanUp() }
        let access = try access(.update, collection, caller.with(body: input.values))
        let records = self.records
        // The update rule is checked here first (a hidden record is 404 before any file is stored) and
        // again in the change's transaction.
        let existing = try await Self.blocking { try records.get(collection.name, id: id, access: access) }
        input.resolveFiles(existing: existing, collection: collection)
        let body = input.values
        let files = input.files
        let record: RecordModel
        if collection.type == .auth {
            record = try await authenticator.updateRecord(collection: collection.name, id: id, values: body, files: files, by: identity)
        } else {
            let records = audited(identity, context, fields: Array(body.keys) + Array(files.keys))
            record = try await Self.blocking { try records.update(collection.name, id: id, body, files: files, access: access) }
        }
        return .json(RecordPresenter.present(record, collection, for: caller))
    }

    func delete(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let identity = try await auth.identity(request, context)
        let collection = try await collection(context)
        let id = try context.parameters.require("id")
        let access = try access(.delete, collection, RecordCaller(identity))
        let records = audited(identity, context)
        try await Self.blocking { try records.delete(collection.name, id: id, access: access) }
        return Response(status: .noContent)
    }

    /// The records as the response shows them (``RecordShape``: `expand`, `fields`).
    func shape(_ records: [RecordModel], _ collection: CollectionModel, _ caller: RecordCaller, _ query: [String: String]) async throws -> [JSONValue] {
        try await RecordShape.apply(records, collection, caller, query, store: self.records)
    }

    /// Runs blocking store work off the cooperative pool (SQLite calls block their thread).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingWork.run(body)
    }
}
