import BurgAuth
import BurgRecords
import Foundation
import Hummingbird

/// `GET /api/audit` for superusers: the audit log, newest first, with `filter` (over `at, actor,
/// action, collection, recordId, ip, detail`), `sort`, `page`, `perPage` and exact totals.
struct AuditRoutes: Sendable {
    let auth: RequestAuth
    let audit: AuditLog

    func add(to router: Router<BurgRequestContext>) {
        router.get("api/audit") { request, context -> Response in
            _ = try await auth.requireSuperuser(request, context)
            let query = request.formQuery
            guard let page = Int(query["page"] ?? "1"), let perPage = Int(query["perPage"] ?? "30") else {
                throw APIError(.badRequest, "page and perPage must be integers.")
            }
            let audit = self.audit
            let filter = query["filter"] ?? ""
            let sort = query["sort"] ?? ""
            let (items, total) = try await RecordsRoutes.blocking {
                try audit.list(filter: filter, sort: sort, page: page, perPage: min(perPage, ListQuery.maxPerPage))
            }
            let entries: [JSONValue] = items.map { entry in
                .object([
                    "id": .number(Double(entry.id ?? 0)), "at": .string(entry.at), "actor": .string(entry.actor),
                    "action": .string(entry.action), "collection": .string(entry.collection), "recordId": .string(entry.recordId),
                    "fields": .array(entry.fields.map(JSONValue.string)), "ip": .string(entry.ip), "detail": .string(entry.detail),
                ])
            }
            let shown = min(perPage, ListQuery.maxPerPage)
            return Response.json(.object([
                "page": .number(Double(page)), "perPage": .number(Double(shown)), "totalItems": .number(Double(total)),
                "totalPages": .number(Double((total + shown - 1) / shown)), "items": .array(entries),
            ]))
        }
    }
}
