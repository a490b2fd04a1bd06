import BurgAuth
import BurgRecords
import BurgStore
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
            let (page, perPage) = try RecordsRoutes.paging(query)
            let audit = self.audit
            let filter = query["filter"] ?? ""
            let sort = query["sort"] ?? ""
            let (items, total) = try await BlockingWork.run {
                try audit.list(filter: filter, sort: sort, page: page, perPage: perPage)
            }
            let entries: [JSONValue] = items.map { entry in
                .object([
                    "id": .number(Double(entry.id ?? 0)), "at": .string(entry.at), "actor": .string(entry.actor),
                    "action": .string(entry.action), "collection": .string(entry.collection), "recordId": .string(entry.recordId),
                    "fields": .array(entry.fields.map(JSONValue.string)), "ip": .string(entry.ip), "detail": .string(entry.detail),
                ])
            }
            return Response.json(.object([
                "page": .number(Double(page)), "perPage": .number(Double(perPage)), "totalItems": .number(Double(total)),
                "totalPages": .number(Double((total + perPage - 1) / perPage)), "items": .array(entries),
            ]))
        }
    }
}
