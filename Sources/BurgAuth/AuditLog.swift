import BurgCore
import BurgRecords
import BurgStore
import Foundation
internal import GRDB

/// One audited event: who did what to which record or collection. It names changed fields but never
/// holds field values, so secrets (passwords, tokens) cannot leak into it.
public struct AuditEntry: Sendable, Codable, Equatable {
    public var id: Int64?
    /// `2026-11-24 10:00:00.000Z`, as record dates.
    public var at: String
    /// `_superusers:<id>`, `users:<id>`, `anonymous`, `cli`, …
    public var actor: String
    /// `record.create`, `record.update`, `record.delete`, `auth.success`, `auth.failure`, `auth.lockout`,
    /// `schema.create`, `schema.update`, `schema.delete`.
    public var action: String
    public var collection: String
    public var recordId: String
    /// Names of the fields a change touched.
    public var fields: [String]
    public var ip: String
    /// A short note (why a sign-in failed); never a secret.
    public var detail: String

    public init(
        action: String, actor: String, collection: String = "", recordId: String = "", fields: [String] = [],
        ip: String = "", detail: String = "", at: Date = Date()
    ) {
        self.at = FilterSQL.formatDate(at)
        self.actor = actor
        self.action = action
        self.collection = collection
        self.recordId = recordId
        self.fields = fields
        self.ip = ip
        self.detail = detail
    }

    /// The actor name for an identity (or `anonymous`).
    public static func actor(_ identity: AuthIdentity?) -> String {
        identity.map { "\($0.collectionName):\($0.recordId)" } ?? "anonymous"
    }
}

/// The append-only audit log in the `_audit` table. Appending inside the caller's transaction
/// (``append(_:db:)``) makes the entry commit or roll back with the change it describes.
public struct AuditLog: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func append(_ entry: AuditEntry, db: StoreTransaction) throws {
        let fields = JSONValue.array(entry.fields.map(JSONValue.string)).jsonText
        try db.sqlite.cachedStatement(sql: """
            INSERT INTO _audit (at, actor, action, collection, record_id, fields, ip, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [entry.at, entry.actor, entry.action, entry.collection, entry.recordId, fields, entry.ip, entry.detail])
    }

    public func append(_ entry: AuditEntry) async throws {
        try await store.write { db in try append(entry, db: db) }
    }

    /// A page of entries matching `filter` (the filter language over `at, actor, action, collection,
    /// recordId, ip, detail`), newest first unless `sort` says otherwise; totals are exact.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func list(filter: String = "", sort: String = "", page: Int = 1, perPage: Int = 30) throws -> (items: [AuditEntry], totalItems: Int) {
        var bounds = ListQuery()
        (bounds.page, bounds.perPage) = (page, perPage)
        try bounds.checkBounds("_audit")
        let fields = AuditFields()
        let condition = try FilterSQL.compile(filter, fields: fields)
        let order = try SortOrder(sort, fields: fields).sql(fields: fields) ?? "\"at\" DESC"
        return try store.read { db in
            let rows = try Row.fetchAll(db.sqlite, sql: """
                SELECT * FROM _audit WHERE \(condition.sql) ORDER BY \(order), "id" DESC LIMIT ? OFFSET ?
                """, arguments: StatementArguments(condition.arguments) + [perPage, bounds.offset])
            let total = try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM _audit WHERE \(condition.sql)", arguments: StatementArguments(condition.arguments)) ?? 0
            let items = rows.map { row -> AuditEntry in
                var entry = AuditEntry(action: row["action"], actor: row["actor"], collection: row["collection"],
                    recordId: row["record_id"], ip: row["ip"], detail: row["detail"])
                entry.id = row["id"]
                entry.at = row["at"]
                entry.fields = (try? JSONDecoder().decode([String].self, from: Data((row["fields"] as String).utf8))) ?? []
                return entry
            }
            return (items, total)
        }
    }
}

/// The audit columns the filter language may name.
struct AuditFields: FilterFieldResolver {
    private static let columns: [String: String] = [
        "id": "id", "at": "at", "actor": "actor", "action": "action", "collection": "collection",
        "recordId": "record_id", "ip": "ip", "detail": "detail",
    ]

    func resolve(_ path: [String]) -> ResolvedFilterField? {
        guard path.count == 1, let column = Self.columns[path[0]] else { return nil }
        return ResolvedFilterField(sql: "\"\(column)\"", kind: column == "id" ? .number : column == "at" ? .date : .text)
    }

    var knownFields: [String] { Self.columns.keys.sorted() }
}

extension AuditLog {
    /// ``list(filter:sort:page:perPage:)`` on ``BlockingWork``'s threads, for async callers.
    public func list(filter: String = "", sort: String = "", page: Int = 1, perPage: Int = 30) async throws -> (items: [AuditEntry], totalItems: Int) {
        try await BlockingWork.run { try self.list(filter: filter, sort: sort, page: page, perPage: perPage) }
    }
}
