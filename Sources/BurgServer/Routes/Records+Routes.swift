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
    /// How many relation levels one `expand` path may follow (PocketBase's limit too).
    static let maxExpandDepth = 6
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

    /// The collection and the rule that applies to this caller: nil when no rule needs checking
    /// (superuser, or an empty rule); throws 403 for a superusers-only action.
    private func rule(_ collection: Collection, _ pick: (Collection.Rules) -> String?, _ identity: AuthIdentity?) throws -> String? {
        if identity?.isSuperuser == true { return nil }
        guard let rule = pick(collection.rules) else { throw APIError.superusersOnly }
        return rule.isEmpty ? nil : rule
    }

    private func collection(_ context: BurgRequestContext) async throws -> Collection {
        let name = try context.parameters.require("collection")
        let store = self.store
        return try await Self.blocking { try CollectionRegistry(store: store).get(name) }
    }

    func list(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let identity = try await auth.identity(request, context)
        let name = try context.parameters.require("collection")
        let parameters = request.formQuery
        var query = ListQuery()
        (query.page, query.perPage) = try Self.paging(parameters)
        query.filter = parameters["filter"] ?? ""
        query.sort = parameters["sort"] ?? ""
        query.skipTotal = ["1", "true"].contains(parameters["skipTotal"] ?? "")
        query.cursor = parameters["cursor"]
        query.context = RequestAuth.filterContext(identity)
        let records = self.records
        let finalQuery = query
        // One hop off the event loop and one read transaction for the collection, its rule and the page.
        let (collection, result) = try await Self.blocking {
            try records.list(name, finalQuery, rule: { collection in try rule(collection, \.list, identity) })
        }
        var page: [String: JSONValue] = [
            "page": .number(Double(result.page)), "perPage": .number(Double(result.perPage)),
            "totalItems": .number(Double(result.totalItems)), "totalPages": .number(Double(result.totalPages)),
            "items": .array(try await shape(result.items, collection, identity, parameters)),
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
        let identity = try await auth.identity(request, context)
        let name = try context.parameters.require("collection")
        let id = try context.parameters.require("id")
        let records = self.records
        let (collection, record) = try await Self.blocking {
            try records.get(name, id: id, access: { collection in
                try rule(collection, \.view, identity).map { RecordAccess(rule: $0, context: RequestAuth.filterContext(identity)) }
            })
        }
        return .json(try await shape([record], collection, identity, request.formQuery)[0])
    }

    /// The body of a create or update (JSON, or multipart with files); `RecordBody.cleanUp()` after use.
    private func body(_ request: Request, _ context: BurgRequestContext, _ collection: Collection) async throws -> RecordBody {
        try await RecordBody.read(request, context: context, collection: collection,
                                  dataDirectory: store.configuration.dataDirectory, limit: maxUploadSize)
    }

    func create(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let identity = try await auth.identity(request, context)
        let collection: Collection
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
        let access = try createAccess(collection, identity, body)
        let record: BurgRecords.Record
        if collection.type == .auth {
            // Passwords are hashed and checked by the authenticator. A non-empty create rule is checked
            // on the stored record, which is removed again if it fails (not atomic: a crash in between
            // leaves the account; the default `users` rule is empty, so this path is rare).
            record = try await authenticator.createRecord(collection: collection.name, values: body, files: files, by: identity)
            if let access {
                do {
                    _ = try records.get(collection.name, id: record.id, access: access)
                } catch {
                    try? records.delete(collection.name, id: record.id)
                    throw BurgRecords.RecordError(.forbidden, collection: collection.name, message: "the create rule does not allow it")
                }
            }
        } else {
            let records = audited(identity, context, fields: Array(body.keys) + Array(files.keys))
            record = try await Self.blocking { try records.create(collection.name, body, files: files, access: access) }
        }
        return .json(present(record, collection, identity))
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
        do {
            // Async: the request waits for its group commit without holding a thread.
            let (collection, record) = try await records.create(name, object) { collection in
                guard collection.type != .auth else { throw AuthCollectionCreate() }
                return try createAccess(collection, identity, object)
            }
            return .json(present(record, collection, identity))
        } catch is AuthCollectionCreate {
            return nil
        }
    }

    /// The caller's create rule as a check of the record to be stored (`@request.body.*` from `body`);
    /// nil when there is nothing to check, 403 for a superusers-only create.
    private func createAccess(_ collection: Collection, _ identity: AuthIdentity?, _ body: [String: JSONValue]) throws -> RecordAccess? {
        try rule(collection, \.create, identity).map { RecordAccess(rule: $0, context: RequestAuth.filterContext(identity, body: body)) }
    }

    /// Thrown inside ``createFromJSON(_:_:_:)``'s write (rolling it back before anything is written)
    /// when the collection turns out to be an auth collection.
    private struct AuthCollectionCreate: Error {}

    func update(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let identity = try await auth.identity(request, context)
        let collection = try await collection(context)
        let id = try context.parameters.require("id")
        let updateRule = try rule(collection, \.update, identity)  // a superusers-only refusal comes before any upload is read
        var input = try await body(request, context, collection)
        defer { input.cleanUp() }
        let access = updateRule.map { RecordAccess(rule: $0, context: RequestAuth.filterContext(identity, body: input.values)) }
        let records = self.records
        // The update rule is checked here first (a hidden record is 404 before any file is stored) and
        // again in the change's transaction.
        let existing = try await Self.blocking { try records.get(collection.name, id: id, access: access) }
        input.resolveFiles(existing: existing, collection: collection)
        let body = input.values
        let files = input.files
        let record: BurgRecords.Record
        if collection.type == .auth {
            record = try await authenticator.updateRecord(collection: collection.name, id: id, values: body, files: files, by: identity)
        } else {
            let records = audited(identity, context, fields: Array(body.keys) + Array(files.keys))
            record = try await Self.blocking { try records.update(collection.name, id: id, body, files: files, access: access) }
        }
        return .json(present(record, collection, identity))
    }

    func delete(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let identity = try await auth.identity(request, context)
        let collection = try await collection(context)
        let id = try context.parameters.require("id")
        let access = try rule(collection, \.delete, identity).map { RecordAccess(rule: $0, context: RequestAuth.filterContext(identity)) }
        let records = audited(identity, context)
        try await Self.blocking { try records.delete(collection.name, id: id, access: access) }
        return Response(status: .noContent)
    }

    /// The records as the response shows them: `expand=owner,tags.group` adds the related records the
    /// caller may view under `"expand"` (PocketBase's shape; dotted paths expand the expanded records in
    /// turn, up to 6 levels), and `fields=id,title` keeps only the named top-level keys (`*` for all;
    /// `expand` is kept when named).
    func shape(_ records: [BurgRecords.Record], _ collection: Collection, _ identity: AuthIdentity?, _ query: [String: String]) async throws -> [JSONValue] {
        let paths = (query["expand"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).split(separator: ".").map(String.init) }
            .filter { !$0.isEmpty }
        if let deep = paths.first(where: { $0.count > Self.maxExpandDepth }) {
            throw APIError(.badRequest, "Cannot expand \"\(deep.joined(separator: "."))\": at most \(Self.maxExpandDepth) levels.")
        }
        let fields = (query["fields"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shaped = try await expanded(records, collection, paths, identity)
        if !fields.isEmpty && !fields.contains("*") {
            shaped = shaped.map { value in
                guard case .object(let object) = value else { return value }
                return .object(object.filter { fields.contains($0.key) })
            }
        }
        return shaped
    }

    /// `records` presented, each with `"expand"` holding the relations named by the first element of
    /// `paths`, themselves expanded by the rest of their paths. Only related records the caller may view
    /// (the target's view rule) are included; a relation that is not a relation field is a 400.
    private func expanded(_ records: [BurgRecords.Record], _ collection: Collection, _ paths: [[String]], _ identity: AuthIdentity?) async throws -> [JSONValue] {
        var objects = records.map { record -> [String: JSONValue] in
            if case .object(let object) = present(record, collection, identity) { object } else { [:] }
        }
        guard !paths.isEmpty else { return objects.map(JSONValue.object) }
        var expansions: [String: [JSONValue]] = [:]  // relation name → per record: the expanded value or null
        for name in Set(paths.map { $0[0] }).sorted() {
            guard let field = collection.field(named: name), field.type == .relation, let targetName = field.collection else {
                throw APIError(.badRequest, "Cannot expand \"\(name)\": not a relation field of \(collection.name).")
            }
            let store = self.store
            let target = try await Self.blocking { try CollectionRegistry(store: store).get(targetName) }
            let rule = identity?.isSuperuser == true ? "" : target.rules.view
            let access = rule.flatMap { $0.isEmpty ? nil : RecordAccess(rule: $0, context: RequestAuth.filterContext(identity)) }
            // Each related record once, however many records point at it.
            let ids = records.map { RecordBody.storedNames($0.values[name]) }
            let unique = Array(Set(ids.joined())).sorted()
            let records = self.records
            let found: [BurgRecords.Record] = rule == nil ? [] : try await Self.blocking {
                unique.compactMap { id in try? records.get(target.name, id: id, access: access) }
            }
            let deeper = paths.filter { $0[0] == name && $0.count > 1 }.map { Array($0.dropFirst()) }
            let shapedFound = try await expanded(found, target, deeper, identity)
            let byID = Dictionary(zip(found.map(\.id), shapedFound), uniquingKeysWith: { first, _ in first })
            expansions[name] = ids.map { list in
                let hits = list.compactMap { byID[$0] }
                return field.isMultiple ? .array(hits) : hits.first ?? .null
            }
        }
        for index in objects.indices {
            var expand: [String: JSONValue] = [:]
            for (name, values) in expansions where values[index] != .null { expand[name] = values[index] }
            objects[index]["expand"] = .object(expand)
        }
        return objects.map(JSONValue.object)
    }

    /// A record as this caller may see it: an auth record's email only to itself, superusers, or when
    /// it chose `emailVisibility`.
    func present(_ record: BurgRecords.Record, _ collection: Collection, _ identity: AuthIdentity?) -> JSONValue {
        Self.present(record, collection, identity)
    }

    static func present(_ record: BurgRecords.Record, _ collection: Collection, _ identity: AuthIdentity?) -> JSONValue {
        guard collection.type == .auth, case .object(var object) = record.json else { return record.json }
        let own = identity?.recordId == record.id && identity?.collectionId == collection.id
        if !own && identity?.isSuperuser != true && record.values["emailVisibility"] != .bool(true) {
            object["email"] = nil
        }
        return .object(object)
    }

    /// Runs blocking store work off the cooperative pool (SQLite calls block their thread).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingWork.run(body)
    }
}
