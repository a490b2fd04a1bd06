import BurgAuth
import BurgJobs
import BurgRecords
import BurgStore
import Foundation
import Hummingbird

/// `/api/collections[/{collection}]` for superusers: list, view, create, update (PATCH merges the given
/// keys into the definition), delete. Schema changes run in one transaction with their table migration.
struct CollectionsRoutes: Sendable {
    let store: Store
    let auth: RequestAuth
    let audit: AuditLog

    /// Records a schema change in the audit log (after it committed).
    private func record(_ action: String, _ name: String, by identity: AuthIdentity, _ context: BurgRequestContext, fields: [String] = []) async throws {
        try await audit.append(AuditEntry(action: "schema.\(action)", actor: AuditEntry.actor(identity), collection: name,
                                          fields: fields.sorted(), ip: context.clientIP))
    }

    var registry: CollectionRegistry { CollectionRegistry(store: store) }

    func add(to router: Router<BurgRequestContext>) {
        let group = router.group("api/collections")
        group.get { request, context -> Response in
            _ = try await auth.requireSuperuser(request, context)
            let registry = self.registry
            let all = try await BlockingWork.run { try registry.list() }
            let items: [JSONValue] = try all.map(Self.json)
            let page: [String: JSONValue] = [
                "page": .number(1), "perPage": .number(Double(max(all.count, 1))), "totalItems": .number(Double(all.count)),
                "totalPages": .number(1), "items": .array(items),
            ]
            return Response.json(.object(page))
        }
        group.get(":collection") { request, context -> Response in
            _ = try await auth.requireSuperuser(request, context)
            let name = try context.parameters.require("collection")
            let registry = self.registry
            return Response.json(try Self.json(try await BlockingWork.run { try registry.get(name) }))
        }
        group.post { request, context -> Response in
            let identity = try await auth.requireSuperuser(request, context)
            let body = try await request.jsonObject(context: context)
            var decoded = try Self.decode(.object(body))
            // Only Burg makes system collections (the underscore names are theirs).
            decoded.system = false
            let collection = decoded
            let registry = self.registry
            let created = try await BlockingWork.run { try AuthCollections.create(collection, in: registry) }
            try await record("create", created.name, by: identity, context, fields: created.fields.map(\.name))
            return Response.json(try Self.json(created))
        }
        group.patch(":collection") { request, context -> Response in
            let identity = try await auth.requireSuperuser(request, context)
            let name = try context.parameters.require("collection")
            let body = try await request.jsonObject(context: context)
            let registry = self.registry
            let existing = try await BlockingWork.run { try registry.get(name) }
            guard case .object(var merged) = try Self.json(existing) else { throw APIError.notFound }
            // A system collection keeps its name: sign-in and Burg's own tables find it by that name.
            if existing.system, case .string(let newName)? = body["name"], newName != existing.name {
                throw APIError(.badRequest, "Failed to update collection.",
                               data: ["name": FieldError("validation_collection_system_name_change", "System collection name cannot be changed.")])
            }
            for (key, value) in body { merged[key] = value }
            let changed = try Self.decode(.object(merged))
            let force = ["true", "1"].contains(request.formQuery["force"] ?? "")
            let updated = try await BlockingWork.run { try AuthCollections.update(name, to: changed, force: force, in: registry) }
            try await record("update", updated.name, by: identity, context, fields: Array(body.keys))
            return Response.json(try Self.json(updated))
        }
        // PocketBase's templates for a new collection; Burg has no view collections, so base and auth.
        group.get("meta/scaffolds") { request, context -> Response in
            _ = try await auth.requireSuperuser(request, context)
            return Response.json(.object(try AuthCollections.scaffolds.mapValues(Self.json)))
        }
        group.put("import") { request, context -> Response in
            let identity = try await auth.requireSuperuser(request, context)
            let body = try await request.jsonObject(context: context)
            guard case .array(let items)? = body["collections"], !items.isEmpty else {
                throw APIError(.badRequest, "An error occurred while validating the submitted data.",
                               data: ["collections": FieldError("validation_required", "Cannot be blank.")])
            }
            // System collections in the list (a full PocketBase export carries `_superusers`, `_mfas`, …)
            // are left as they are: Burg's own are not imported over, and PocketBase's others do not exist here.
            let collections = try items.filter { item in
                if case .object(let object) = item, object["system"] == .bool(true) { return false }
                return true
            }.map { item -> CollectionModel in
                var collection = try Self.decode(item)
                collection.system = false
                return collection
            }
            let deleteMissing = body["deleteMissing"] == .bool(true)
            let force = ["true", "1"].contains(request.formQuery["force"] ?? "")
            let registry = self.registry
            let summary: CollectionImportSummary
            do {
                summary = try await BlockingWork.run {
                    try AuthCollections.importAll(collections, deleteMissing: deleteMissing, force: force, in: registry)
                }
            } catch let error as SchemaError {
                // PocketBase's shape: one error at `collections` naming the collection and what failed.
                throw APIError(.badRequest, "Failed to import collections.",
                               data: ["collections": FieldError("validation_collections_import_failure", error.description)])
            }
            try await record("import", "*", by: identity, context,
                             fields: summary.created + summary.updated + summary.deleted.map(\.name))
            return Response(status: .noContent)
        }
        group.delete(":collection/truncate") { request, context -> Response in
            let identity = try await auth.requireSuperuser(request, context)
            let name = try context.parameters.require("collection")
            let registry = self.registry
            _ = try await BlockingWork.run { try registry.truncate(name) }
            try await record("truncate", name, by: identity, context)
            return Response(status: .noContent)
        }
        group.delete(":collection") { request, context -> Response in
            let identity = try await auth.requireSuperuser(request, context)
            let name = try context.parameters.require("collection")
            let registry = self.registry
            _ = try await BlockingWork.run { try AuthCollections.delete(name, in: registry) }
            try await record("delete", name, by: identity, context)
            return Response(status: .noContent)
        }
    }

    static func json(_ collection: CollectionModel) throws -> JSONValue {
        try JSONValue.parse(String(decoding: try JSONEncoder().encode(collection), as: UTF8.self))
    }

    static func decode(_ value: JSONValue) throws -> CollectionModel {
        do {
            return try JSONDecoder().decode(CollectionModel.self, from: Data(value.jsonText.utf8))
        } catch let error as FieldOptionError {
            throw APIError(.badRequest, "Failed to save the collection: \(error.description).",
                           data: ["fields": FieldError("validation_unsupported_option", error.description)])
        } catch {
            throw APIError(.badRequest, "An error occurred while validating the submitted data: the collection definition is malformed (\(error)).")
        }
    }
}

/// `GET /api/health`: in PocketBase's envelope, the store's verdict, free disk space, the job queue and
/// its workers, and the backups. `status` is the worst of the checks; HTTP 200 unless it is unhealthy
/// (503), so a load balancer can use it as is. The full check is cached for `interval` (`HealthMonitor`),
/// so anyone may poll it without loading the store.
struct HealthRoutes: Sendable {
    let store: Store
    let monitor: HealthMonitor

    init(store: Store, interval: Duration, workers: (@Sendable () -> WorkerSupervisor.Status)?) {
        self.store = store
        self.monitor = HealthMonitor(store: store, interval: interval, workers: workers)
    }

    func add(to router: Router<BurgRequestContext>) {
        router.get("api/health") { _, _ -> Response in try await answer() }
        // HEAD as PocketBase answers it (a probe that wants only the status): GET's status and headers.
        router.head("api/health") { _, _ -> Response in
            let full = try await answer()
            return Response(status: full.status, headers: full.headers)
        }
    }

    private func answer() async throws -> Response {
        let report = try await monitor.report()
        var free: Double = -1
        var stats = statvfs()
        if statvfs(store.configuration.dataDirectory.string, &stats) == 0 { free = Double(stats.f_bavail) * Double(stats.f_frsize) }
        let verdict = report.verdict
        let status: HTTPResponse.Status = verdict == .unhealthy ? .serviceUnavailable : .ok
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        var checks: [String: JSONValue] = [
            "store": .object(["status": .string(report.store.verdict.rawValue), "reasons": .array(report.store.reasons.map(JSONValue.string))]),
            "disk": .object(["freeBytes": .number(free)]),
        ]
        if let jobs = report.jobs {
            checks["jobs"] = .object([
                "status": .string(jobs.status.rawValue), "problem": text(jobs.problem),
                "oldestWaitingSeconds": .number(jobs.oldestWaitingSeconds), "failedLastHour": .number(Double(jobs.failedLastHour)),
                "workersAlive": jobs.workersAlive.map { .number(Double($0)) } ?? .null,
                "workersWanted": jobs.workersWanted.map { .number(Double($0)) } ?? .null,
            ])
        }
        if let backups = report.backups {
            checks["backups"] = .object([
                "status": .string(backups.status.rawValue), "problem": text(backups.problem),
                "lastBackup": text(backups.lastBackup), "lastVerified": text(backups.lastVerified),
            ])
        }
        return .json(.object([
            "code": .number(Double(status.code)),
            "message": .string(verdict == .unhealthy ? "API is unhealthy." : "API is healthy."),
            "data": .object([
                "status": .string(verdict.rawValue),
                "checks": .object(checks),
                "checkedAt": .string(FilterSQL.formatDate(report.checkedAt)),
            ]),
        ]), status: status)
    }
}
