import BurgAuth
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
        let identity = try await auth.identity(request)
        let collection = try await collection(context)
        let parameters = request.formQuery
        var query = ListQuery()
        if let page = parameters["page"] {
            guard let value = Int(page), value >= 1 else { throw APIError(.badRequest, "page must be a positive integer.") }
            query.page = value
        }
        if let perPage = parameters["perPage"] {
            guard let value = Int(perPage), value >= 1 else { throw APIError(.badRequest, "perPage must be a positive integer.") }
            query.perPage = min(value, ListQuery.maxPerPage)
        }
        query.filter = parameters["filter"] ?? ""
        query.sort = parameters["sort"] ?? ""
        query.skipTotal = ["1", "true"].contains(parameters["skipTotal"] ?? "")
        query.cursor = parameters["cursor"]
        query.context = RequestAuth.filterContext(identity)
        query.rule = try rule(collection, \.list, identity)
        let records = self.records
        let finalQuery = query
        let result = try await Self.blocking { try records.list(collection.name, finalQuery) }
        var page: [String: JSONValue] = [
            "page": .number(Double(result.page)), "perPage": .number(Double(result.perPage)),
            "totalItems": .number(Double(result.totalItems)), "totalPages": .number(Double(result.totalPages)),
            "items": .array(try await shape(result.items, collection, identity, request)),
        ]
        if let next = result.nextCursor { page["nextCursor"] = .string(next) }
        return .json(.object(page))
    }

    func view(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let identity = try await auth.identity(request)
        let collection = try await collection(context)
        let id = try context.parameters.require("id")
        let access = try rule(collection, \.view, identity).map { RecordAccess(rule: $0, context: RequestAuth.filterContext(identity)) }
        let records = self.records
        let record = try await Self.blocking { try records.get(collection.name, id: id, access: access) }
        return .json(try await shape([record], collection, identity, request)[0])
    }

    /// The body of a create or update (JSON, or multipart with files); `RecordBody.cleanUp()` after use.
    private func body(_ request: Request, _ context: BurgRequestContext, _ collection: Collection) async throws -> RecordBody {
        try await RecordBody.read(request, context: context, collection: collection,
                                  dataDirectory: store.configuration.dataDirectory, limit: maxUploadSize)
    }

    func create(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let identity = try await auth.identity(request)
        let collection = try await collection(context)
        let rule = try rule(collection, \.create, identity)
        let input = try await body(request, context, collection)
        defer { input.cleanUp() }
        let body = input.values
        let files = input.files
        let record: BurgRecords.Record
        if collection.type == .auth {
            // Passwords are hashed and checked by the authenticator. A non-empty create rule is checked
            // on the stored record, which is removed again if it fails (not atomic: a crash in between
            // leaves the account; the default `users` rule is empty, so this path is rare).
            record = try await authenticator.createRecord(collection: collection.name, values: body, files: files, by: identity)
            if let rule {
                let access = RecordAccess(rule: rule, context: RequestAuth.filterContext(identity, body: body))
                do {
                    _ = try records.get(collection.name, id: record.id, access: access)
                } catch {
                    try? records.delete(collection.name, id: record.id)
                    throw BurgRecords.RecordError(.forbidden, collection: collection.name, message: "the create rule does not allow it")
                }
            }
        } else {
            let access = rule.map { RecordAccess(rule: $0, context: RequestAuth.filterContext(identity, body: body)) }
            let records = audited(identity, context, fields: Array(body.keys) + Array(files.keys))
            record = try await Self.blocking { try records.create(collection.name, body, files: files, access: access) }
        }
        return .json(present(record, collection, identity))
    }

    func update(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let identity = try await auth.identity(request)
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
        let identity = try await auth.identity(request)
        let collection = try await collection(context)
        let id = try context.parameters.require("id")
        let access = try rule(collection, \.delete, identity).map { RecordAccess(rule: $0, context: RequestAuth.filterContext(identity)) }
        let records = audited(identity, context)
        try await Self.blocking { try records.delete(collection.name, id: id, access: access) }
        return Response(status: .noContent)
    }

    /// A record as this caller may see it: an auth record's email only to itself, superusers, or when
    /// it chose `emailVisibility`.
    /// The records as the response shows them: `expand=rel1,rel2` adds each related record the caller
    /// may view under `"expand"` (one level; PocketBase's shape), and `fields=id,title` keeps only the
    /// named keys (`*` for all; `expand` is kept when named).
    func shape(_ records: [BurgRecords.Record], _ collection: Collection, _ identity: AuthIdentity?, _ request: Request) async throws -> [JSONValue] {
        let query = request.formQuery
        let expand = (query["expand"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let fields = (query["fields"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var related: [String: (Collection, Bool)] = [:]
        for name in expand {
            guard let field = collection.field(named: name), field.type == .relation, let target = field.collection else {
                throw APIError(.badRequest, "Cannot expand \"\(name)\": not a relation field of \(collection.name).")
            }
            let store = self.store
            related[name] = (try await Self.blocking { try CollectionRegistry(store: store).get(target) }, field.isMultiple)
        }
        var shaped: [JSONValue] = []
        for record in records {
            guard case .object(var object) = present(record, collection, identity) else { continue }
            if !related.isEmpty {
                var expanded: [String: JSONValue] = [:]
                for (name, (target, multiple)) in related {
                    let ids: [String]
                    switch record.values[name] {
                    case .string(let id)? where !id.isEmpty: ids = [id]
                    case .array(let items)?: ids = items.compactMap { if case .string(let id) = $0 { id } else { nil } }
                    default: ids = []
                    }
                    var found: [JSONValue] = []
                    for id in ids {
                        // Only what the caller may view (the target's view rule); hidden ones are left out.
                        if let rule = identity?.isSuperuser == true ? Optional("") : target.rules.view {
                            let access = rule.isEmpty ? nil : RecordAccess(rule: rule, context: RequestAuth.filterContext(identity))
                            let records = self.records
                            if let hit = try? await Self.blocking({ try records.get(target.name, id: id, access: access) }) {
                                found.append(present(hit, target, identity))
                            }
                        }
                    }
                    if multiple { expanded[name] = .array(found) } else if let one = found.first { expanded[name] = one }
                }
                object["expand"] = .object(expanded)
            }
            if !fields.isEmpty && !fields.contains("*") {
                object = object.filter { fields.contains($0.key) }
            }
            shaped.append(.object(object))
        }
        return shaped
    }

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
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
