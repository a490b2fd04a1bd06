import BurgCore
import BurgStore
import Foundation
internal import GRDB

/// A stored record: system fields plus the collection's field values, in PocketBase's JSON shape.
public struct RecordModel: Sendable, Equatable {
    public var id: String
    public var collectionId: String
    public var collectionName: String
    public var created: String
    public var updated: String
    public var values: [String: JSONValue]

    public init(id: String, collectionId: String, collectionName: String, created: String = "", updated: String = "",
                values: [String: JSONValue]) {
        self.id = id
        self.collectionId = collectionId
        self.collectionName = collectionName
        self.created = created
        self.updated = updated
        self.values = values
    }

    /// `{"id", "collectionId", "collectionName", "created", "updated", ...fields}`
    public var json: JSONValue {
        var object = values
        object["id"] = .string(id)
        object["collectionId"] = .string(collectionId)
        object["collectionName"] = .string(collectionName)
        object["created"] = .string(created)
        object["updated"] = .string(updated)
        return .object(object)
    }
}

/// What to list: PocketBase's `page`, `perPage`, `filter`, `sort`, `skipTotal`.
public struct ListQuery: Sendable {
    public static let maxPerPage = 500
    /// The largest page number: with ``maxPerPage`` its offset stays far inside SQLite's and Int's range.
    public static let maxPage = Int(Int32.max)
    public var page: Int = 1
    public var perPage: Int = 30
    public var filter: String = ""
    public var sort: String = ""
    public var skipTotal: Bool = false
    /// Values of `@now` and `@request.*` for the filter and the access rule.
    public var context = FilterContext()
    /// An access rule (filter language) every listed record must also match; `nil` or `""`: none.
    public var rule: String?
    /// Continue after the record a previous result's ``ListResult/nextCursor`` names (keyset paging:
    /// `page` is then not used for the offset). Must come with the same `sort`.
    public var cursor: String?
    public init() {}

    /// Refuses a page or perPage outside ``ListQuery/maxPage`` and ``ListQuery/maxPerPage``, so the
    /// offset computed from them cannot overflow.
    public func checkBounds(_ collection: String) throws(RecordError) {
        guard (1...Self.maxPage).contains(page), (1...Self.maxPerPage).contains(perPage) else {
            throw RecordError(code: .invalidQuery, collection: collection,
                message: "page must be from 1 to \(Self.maxPage) and perPage from 1 to \(Self.maxPerPage)")
        }
    }

    /// The rows before this page; ``checkBounds(_:)`` keeps it far from overflowing.
    public var offset: Int { (page - 1) * perPage }
}

/// A page of records with exact totals (`-1` when `skipTotal`).
public struct ListResult: Sendable, Equatable {
    public var page: Int
    public var perPage: Int
    public var totalItems: Int
    public var totalPages: Int
    public var items: [RecordModel]
    /// Where the next page starts (pass as ``ListQuery/cursor``); nil when this page is the last.
    public var nextCursor: String?
}

/// Why a record operation failed; nothing was changed.
public struct RecordError: CodedError, Equatable {
    public enum Code: String, Sendable, CaseIterable {
        case notFound = "record_not_found"
        case invalidQuery = "record_invalid_query"
        /// A create the collection's create rule does not allow.
        case forbidden = "record_forbidden"
        /// An action the collection's rule leaves to superusers (a `nil` rule) asked by anyone else.
        case superusersOnly = "record_superusers_only"
        /// The collection's access rule does not compile (the message holds its text: for operators only).
        case brokenRule = "record_broken_rule"
        /// A record Burg needs (the last superuser): it cannot be deleted.
        case protected = "record_protected"
    }

    public var code: Code
    public var collection: String
    public var message: String

    public var description: String { "collection \"\(collection)\": \(message)" }
    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .notFound: ExitStatus.noInput
        case .forbidden, .superusersOnly: ExitStatus.noPermission
        case .invalidQuery: ExitStatus.usage
        case .brokenRule: ExitStatus.config
        case .protected: ExitStatus.dataError
        }
    }
}

/// An access rule to enforce on one record operation: the rule (filter language) the record must match,
/// with the values of `@request.*`. Checked inside the operation's transaction.
public struct RecordAccess: Sendable {
    public var rule: String
    public var context: FilterContext
    public init(rule: String, context: FilterContext) {
        self.rule = rule
        self.context = context
    }
}

/// Creates, reads, changes, deletes and lists records of any collection.
public struct RecordStore: Sendable {
    public let store: Store
    /// Called inside the transaction of every create, update and delete, after the change: what it
    /// writes (an audit entry) commits or rolls back with the change.
    public var afterWrite: (@Sendable (StoreTransaction, RecordChange.Action, CollectionModel, String) throws -> Void)?

    public init(store: Store, afterWrite: (@Sendable (StoreTransaction, RecordChange.Action, CollectionModel, String) throws -> Void)? = nil) {
        self.store = store
        self.afterWrite = afterWrite
    }

    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func create(
        _ collectionName: String, _ values: [String: JSONValue], id: String? = nil, files uploads: [String: [FileUpload]] = [:],
        access: RecordAccess? = nil
    ) throws -> RecordModel {
        // Without uploads, one write transaction does it all (the collection is read inside it).
        guard !uploads.isEmpty else { return try insert(collectionName, values, id: id, access: access) }
        let collection = try CollectionRegistry(store: store).get(collectionName)
        try Self.refuseStoredFileNames(values, collection)
        var values = values
        let recordID = id ?? RecordID.generate()
        guard RecordID.isValid(recordID) else { return try insert(collectionName, values, id: recordID, access: access) }
        _ = try RecordValidator(collection, unknownKeys: .ignore).validate(Self.withPlaceholders(values, for: uploads, collection))  // bad input: no file written
        let saved = try saveUploads(uploads, collection, recordID: recordID, existing: [:], into: &values)
        do {
            return try insert(collectionName, values, id: recordID, access: access, saved: true)
        } catch {
            files.remove(collectionId: collection.id, recordId: recordID, names: saved)
            throw error
        }
    }

    /// ``create(_:_:id:files:access:)`` without uploads, for a caller that picks the access rule from
    /// the collection (a server route): the collection is read, the rule chosen and the record inserted
    /// in one write transaction — no read before it. An error `access` throws (a refusal) changes
    /// nothing. Async: the caller suspends while the write waits for its group (no thread waits).
    public func create(
        _ collectionName: String, _ values: [String: JSONValue], access: @escaping @Sendable (CollectionModel) throws -> RecordAccess?
    ) async throws -> (collection: CollectionModel, record: RecordModel) {
        try await store.groupedWrite { db in try inserted(db.sqlite, collectionName, values, id: nil, access: access, saved: false) }
    }

    /// File fields name stored files; only uploads fill them (a client cannot point at other files).
    static func refuseStoredFileNames(_ values: [String: JSONValue], _ collection: CollectionModel) throws {
        for field in collection.fields where field.type == .file {
            if let value = values[field.name], value != .null, value != .string(""), value != .array([]) {
                throw RecordValidationError(collection: collection.name, fields: [field.name: FieldError("validation_invalid_value", "Upload files; stored names cannot be set.")])
            }
        }
    }

    /// Inserts the record; `saved`: its file fields already name the uploads just stored.
    private func insert(_ collectionName: String, _ values: [String: JSONValue], id: String?, access: RecordAccess?, saved: Bool = false) throws -> RecordModel {
        try store.groupedWrite { db in
            try inserted(db.sqlite, collectionName, values, id: id, access: { _ in access }, saved: saved).record
        }
    }

    /// The insert, inside a write: the collection read, `access` picked from it, the row, its rule
    /// check, change feed entry and `afterWrite`.
    func inserted(
        _ db: Database, _ collectionName: String, _ values: [String: JSONValue], id: String?,
        access: (CollectionModel) throws -> RecordAccess?, saved: Bool
    ) throws -> (collection: CollectionModel, record: RecordModel) {
        let collection = try CollectionRegistry.load(db, collectionName)
        let access = try access(collection)
        if !saved { try Self.refuseStoredFileNames(values, collection) }
        let columns = try RecordValidator(collection, unknownKeys: .ignore).validate(values)
        let now = FilterSQL.formatDate(Date())
        let recordID = id ?? values["id"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? RecordID.generate()
        guard RecordID.isValid(recordID) else {
            throw RecordValidationError(collection: collection.name, fields: ["id": FieldError("validation_invalid_value", "Must be 15 characters of a-z and 0-9.")])
        }
        var names = ["\"id\"", "\"created\"", "\"updated\""]
        var arguments: [(any DatabaseValueConvertible)?] = [recordID, now, now]
        var stored: [String: (any DatabaseValueConvertible)?] = ["id": recordID, "created": now, "updated": now]
        for field in collection.fields {
            let value = Self.databaseValue(columns[field.name] ?? .null)
            names.append(quoteIdentifier(field.name))
            arguments.append(value)
            stored[field.name] = value
        }
        let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
        // Cached per connection (one per collection shape): preparing an insert compiles the
        // collection's search-index triggers, which cost more than the insert itself.
        let statement = try db.cachedStatement(
            sql: "INSERT INTO \(quoteIdentifier(collection.name)) (\(names.joined(separator: ", "))) VALUES (\(placeholders))")
        try Self.mappingConstraints(collection) { try statement.execute(arguments: StatementArguments(arguments)) }
        // The create rule judges the record as it would be stored; failing it undoes the insert.
        try Self.require(db, collection, recordID, access, else: .forbidden)
        // The record as stored, from the values just inserted (no trigger or default changes a row).
        let record = try Self.record(from: Row(stored), collection)
        try ChangeFeed.append(db, collection, record, .create)
        try afterWrite?(StoreTransaction(db), .create, collection, recordID)
        return (collection, record)
    }

    /// The record, or `.notFound` — also when `access` is given and the record does not match its rule
    /// (a client must not learn that a record it may not see exists).
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func get(_ collectionName: String, id: String, access: RecordAccess? = nil) throws -> RecordModel {
        try store.read { db in
            let collection = try CollectionRegistry.load(db.sqlite, collectionName)
            let record = try Self.fetch(db.sqlite, collection, id)
            try Self.require(db.sqlite, collection, id, access, else: .notFound)
            return record
        }
    }

    /// ``get(_:id:access:)`` for a caller that needs the collection too and picks the access rule from
    /// it: both in one read transaction.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func get(
        _ collectionName: String, id: String, access: (CollectionModel) throws -> RecordAccess?
    ) throws -> (collection: CollectionModel, record: RecordModel) {
        try store.read { db in
            let collection = try CollectionRegistry.load(db.sqlite, collectionName)
            let access = try access(collection)
            let record = try Self.fetch(db.sqlite, collection, id)
            try Self.require(db.sqlite, collection, id, access, else: .notFound)
            return (collection, record)
        }
    }

    /// A collection's access rule as SQL. Rules are checked when they are stored; one stored before that
    /// check, that no longer compiles, fails the request with an error that does not show the rule's text
    /// (which is the administrator's, not the caller's to read).
    static func compileRule(_ rule: String, _ fields: CollectionFields, _ context: FilterContext, _ collection: CollectionModel) throws -> FilterSQL {
        do {
            return try FilterSQL.compile(rule, fields: fields, context: context)
        } catch {
            throw RecordError(code: .brokenRule, collection: collection.name,
                message: "an access rule of this collection is invalid (\(error.description)); a superuser has to correct it")
        }
    }

    /// Throws `code` unless record `id` matches `access`'s rule (nothing to check without one).
    static func require(_ db: Database, _ collection: CollectionModel, _ id: String, _ access: RecordAccess?, else code: RecordError.Code) throws {
        guard let access, !access.rule.isEmpty else { return }
        let fields = try CollectionFields.reading(db, collection)
        let condition = try Self.compileRule(access.rule, fields, access.context, collection)
        let table = quoteIdentifier(collection.name)
        let matches = try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE \(table).\"id\" = ? AND \(condition.sql)",
                                        arguments: [id] + StatementArguments(condition.arguments)) ?? false
        if !matches {
            throw RecordError(code: code, collection: collection.name,
                message: code == .forbidden ? "the collection's rule does not allow this record" : "no record with id \(id)")
        }
    }

    /// Whether a record as a change committed it — `json`, the change feed's copy, which later changes
    /// or a delete may have overtaken since — matches `access`'s rule (for realtime events, which go only
    /// to subscribers whose rule lets them see the record as that change left it). The rule's SQL runs
    /// against a one-row CTE that shadows the collection's table, so relation paths still follow the
    /// other collections as they are now.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func allows(committed json: JSONValue, in collectionName: String, access: RecordAccess) throws -> Bool {
        guard !access.rule.isEmpty else { return true }
        guard case .object(let values) = json else { return false }
        return try store.read { db in
            let collection = try CollectionRegistry.load(db.sqlite, collectionName)
            let fields = try CollectionFields.reading(db.sqlite, collection)
            let condition = try Self.compileRule(access.rule, fields, access.context, collection)
            let table = quoteIdentifier(collection.name)
            var names = ["\"id\"", "\"created\"", "\"updated\""]
            var arguments: [(any DatabaseValueConvertible)?] = ["id", "created", "updated"].map { key in
                if case .string(let text)? = values[key] { text } else { "" }
            }
            for field in collection.fields {
                names.append(quoteIdentifier(field.name))
                arguments.append(Self.storedValue(values[field.name], field))
            }
            let row = arguments.indices.map { _ in "?" }.joined(separator: ", ")
            let sql = "WITH \(table)(\(names.joined(separator: ", "))) AS (SELECT \(row)) SELECT 1 FROM \(table) WHERE \(condition.sql)"
            return try Bool.fetchOne(db.sqlite, sql: sql, arguments: StatementArguments(arguments) + StatementArguments(condition.arguments)) ?? false
        }
    }

    /// A JSON value as its field's column holds it (multi-valued and json fields as JSON text, bools as 0/1).
    static func storedValue(_ value: JSONValue?, _ field: Field) -> (any DatabaseValueConvertible)? {
        guard let value, value != .null else {
            if field.type == .geoPoint { return #"{"lon":0,"lat":0}"# }
            return field.type == .json ? nil : (field.isMultiple ? "[]" : field.type == .number || field.type == .bool ? 0 : "")
        }
        if field.storesJSON { return value.jsonText }
        switch value {
        case .string(let text): return text
        case .number(let number): return number
        case .bool(let flag): return flag ? 1 : 0
        case .array, .object, .null: return value.jsonText
        }
    }

    /// Changes the given fields; the others keep their values.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    @discardableResult
    public func update(
        _ collectionName: String, id: String, _ values: [String: JSONValue], files uploads: [String: [FileUpload]] = [:],
        access: RecordAccess? = nil
    ) throws -> RecordModel {
        let collection = try CollectionRegistry(store: store).get(collectionName)
        let fileFields = collection.fields.filter { $0.type == .file }
        if fileFields.isEmpty { return try change(collectionName, id: id, values, access: access) }
        let existing = try get(collectionName, id: id, access: access)
        var values = values
        // A file field given in `values` lists the stored names to keep: only names the record has.
        for field in fileFields {
            guard let value = values[field.name] else { continue }
            let have = Set(Self.fileNames(existing.values[field.name]))
            let keep = Self.fileNames(value)
            if !Set(keep).isSubset(of: have) || (value != .null && keep.isEmpty && value != .string("") && value != .array([])) {
                throw RecordValidationError(collection: collection.name, fields: [field.name: FieldError("validation_invalid_value", "Only files this record has can be kept.")])
            }
        }
        var saved: [String] = []
        if !uploads.isEmpty {
            _ = try RecordValidator(collection, unknownKeys: .ignore).validate(Self.withPlaceholders(values, for: uploads, collection), existing: existing.values)
            saved = try saveUploads(uploads, collection, recordID: id, existing: existing.values, into: &values)
        }
        let updated: RecordModel
        do {
            updated = try change(collectionName, id: id, values, access: access)
        } catch {
            files.remove(collectionId: collection.id, recordId: id, names: saved)
            throw error
        }
        // Only after the commit: files the record no longer names.
        let before = fileFields.flatMap { Self.fileNames(existing.values[$0.name]) }
        let after = Set(fileFields.flatMap { Self.fileNames(updated.values[$0.name]) })
        files.remove(collectionId: collection.id, recordId: id, names: before.filter { !after.contains($0) })
        return updated
    }

    private func change(_ collectionName: String, id: String, _ values: [String: JSONValue], access: RecordAccess?) throws -> RecordModel {
        try store.groupedWrite { db in try changed(db, collectionName, id: id, values, access: { _ in access }).record }
    }

    /// The update, inside a write: the collection read, `access` picked from it and checked on the
    /// record as it is, the row changed, its change feed entry and `afterWrite`.
    func changed(
        _ db: StoreTransaction, _ collectionName: String, id: String, _ values: [String: JSONValue],
        access: (CollectionModel) throws -> RecordAccess?
    ) throws -> (collection: CollectionModel, record: RecordModel) {
        let collection = try CollectionRegistry.load(db.sqlite, collectionName)
        let access = try access(collection)
        let existing = try Self.fetch(db.sqlite, collection, id)
        // The update rule judges the record as it is before the change.
        try Self.require(db.sqlite, collection, id, access, else: .notFound)
        let columns = try RecordValidator(collection, unknownKeys: .ignore).validate(values, existing: existing.values)
        var assignments = ["\"updated\" = ?"]
        var arguments: [(any DatabaseValueConvertible)?] = [FilterSQL.formatDate(Date())]
        for field in collection.fields where values[field.name] != nil {
            assignments.append("\(quoteIdentifier(field.name)) = ?")
            arguments.append(Self.databaseValue(columns[field.name] ?? .null))
        }
        arguments.append(id)
        try Self.mappingConstraints(collection) {
            try db.sqlite.execute(
                sql: "UPDATE \(quoteIdentifier(collection.name)) SET \(assignments.joined(separator: ", ")) WHERE \"id\" = ?",
                arguments: StatementArguments(arguments))
        }
        let updated = try Self.fetch(db.sqlite, collection, id)
        try ChangeFeed.append(db.sqlite, collection, updated, .update)
        try afterWrite?(db, .update, collection, id)
        return (collection, updated)
    }

    /// Deletes the record, then (after the commit) its stored files.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func delete(_ collectionName: String, id: String, access: RecordAccess? = nil) throws {
        let collection = try store.groupedWrite { db in try deleted(db, collectionName, id: id, access: { _ in access }) }
        // A crash before this line leaves an orphaned directory, which `burg files check` reports.
        if RecordID.isValid(id) { files.removeRecord(collectionId: collection.id, recordId: id) }
    }

    /// The delete, inside a write (its files are the caller's to remove after the commit).
    func deleted(_ db: StoreTransaction, _ collectionName: String, id: String, access: (CollectionModel) throws -> RecordAccess?) throws -> CollectionModel {
        let collection = try CollectionRegistry.load(db.sqlite, collectionName)
        let access = try access(collection)
        let before = try Self.fetch(db.sqlite, collection, id)
        try Self.require(db.sqlite, collection, id, access, else: .notFound)
        try db.sqlite.execute(sql: "DELETE FROM \(quoteIdentifier(collection.name)) WHERE \"id\" = ?", arguments: [id])
        if db.sqlite.changesCount == 0 {
            throw RecordError(code: .notFound, collection: collection.name, message: "no record with id \(id)")
        }
        // A system auth collection (`_superusers`) keeps one record: without it nobody could administer.
        if collection.system, collection.type == .auth,
           try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM \(quoteIdentifier(collection.name))") == 0 {
            throw RecordError(code: .protected, collection: collection.name,
                message: "\(id) is the last superuser and cannot be deleted; create another superuser first")
        }
        try ChangeFeed.append(db.sqlite, collection, before, .delete)
        try afterWrite?(db, .delete, collection, id)
        return collection
    }

    // MARK: Files

    /// Where this store's record files live.
    public var files: FileStorage { FileStorage(dataDirectory: store.configuration.dataDirectory) }

    /// The stored names a file field's value holds.
    static func fileNames(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let name) where !name.isEmpty: [name]
        case .array(let items): items.compactMap { if case .string(let name) = $0, !name.isEmpty { name } else { nil } }
        default: []
        }
    }

    /// `values` with a stand-in name in each field that uploads will fill, to validate the rest first.
    static func withPlaceholders(_ values: [String: JSONValue], for uploads: [String: [FileUpload]], _ collection: CollectionModel) -> [String: JSONValue] {
        var values = values
        for (name, list) in uploads where !list.isEmpty {
            guard let field = collection.field(named: name), field.type == .file else { continue }
            values[name] = field.isMultiple ? .array([.string("pending")]) : .string("pending")
        }
        return values
    }

    /// Saves the uploads of every file field (checked against the field: count, size, type) and sets the
    /// fields' values to the stored names; returns the names saved. Throws with nothing left on disk.
    private func saveUploads(
        _ uploads: [String: [FileUpload]], _ collection: CollectionModel, recordID: String, existing: [String: JSONValue],
        into values: inout [String: JSONValue]
    ) throws -> [String] {
        let keyring = try FileKeyring.load(store.configuration.dataDirectory)
        var saved: [String] = []
        do {
            for (fieldName, list) in uploads.sorted(by: { $0.key < $1.key }) where !list.isEmpty {
                guard let field = collection.field(named: fieldName), field.type == .file else {
                    throw RecordValidationError(collection: collection.name, fields: [fieldName: FieldError("validation_unknown_field", "Not a file field.")])
                }
                let kept = Self.fileNames(values[fieldName] ?? existing[fieldName])
                let limit = field.isMultiple ? (field.maxSelect ?? 1) : 1
                guard (field.isMultiple ? kept.count : 0) + list.count <= limit else {
                    throw RecordValidationError(collection: collection.name, fields: [fieldName: FieldError("validation_too_many_values", "No more than \(limit) file(s).")])
                }
                var names: [String] = []
                for upload in list {
                    do {
                        names.append(try files.save(upload, field: field, collectionId: collection.id, recordId: recordID, keyring: keyring))
                    } catch let error as RecordValidationError {
                        throw RecordValidationError(collection: collection.name, fields: error.fields)
                    }
                    saved.append(names.last!)
                }
                values[fieldName] = field.isMultiple ? .array((kept + names).map(JSONValue.string)) : .string(names[0])
            }
        } catch {
            files.remove(collectionId: collection.id, recordId: recordID, names: saved)
            throw error
        }
        return saved
    }

    /// One page of the records matching the filter, in the sort order, with exact totals counted in the
    /// same snapshot as the page (so a concurrent insert cannot make them disagree).
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func list(_ collectionName: String, _ query: ListQuery) throws -> ListResult {
        try list(collectionName, query, rule: { _ in query.rule }).result
    }

    /// ``list(_:_:)`` for a caller that needs the collection too and picks the access rule from it
    /// (`rule` replaces ``ListQuery/rule``): both in one read transaction.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func list(
        _ collectionName: String, _ query: ListQuery, rule: (CollectionModel) throws -> String?
    ) throws -> (collection: CollectionModel, result: ListResult) {
        try query.checkBounds(collectionName)
        return try store.read { db in
            let collection = try CollectionRegistry.load(db.sqlite, collectionName)
            var query = query
            query.rule = try rule(collection)
            return (collection, try Self.page(db.sqlite, collection, query))
        }
    }

    /// One page of `query` over `collection`, in the caller's read transaction.
    private static func page(_ db: Database, _ collection: CollectionModel, _ query: ListQuery) throws -> ListResult {
        let ruleFields = try CollectionFields.reading(db, collection)
        // The client's filter and sort see only what the caller may see; the rule sees everything.
        let fields = ruleFields.seen(by: query.context.viewer)
        var condition = try FilterSQL.compile(query.filter, fields: fields, context: query.context)
        if let rule = query.rule, !rule.isEmpty {
            condition = try Self.compileRule(rule, ruleFields, query.context, collection).and(condition)
        }
        let sort = try SortOrder(query.sort, fields: fields)
        let table = quoteIdentifier(collection.name)
        let rowid = "\(table).\"rowid\""
        let terms = sort.terms.compactMap { term in fields.resolve(term.path).map { (sql: $0.sql, descending: term.descending) } }
        var page = condition.sql
        var pageArguments = StatementArguments(condition.arguments)
        var offset = query.offset
        if let token = query.cursor, !token.isEmpty {
            guard let cursor = ListCursor(token: token), cursor.sort == query.sort, cursor.keys.count == terms.count else {
                throw RecordError(code: .invalidQuery, collection: collection.name,
                    message: "the cursor is not one this listing made (it belongs to another sort, or was altered); start again without it")
            }
            let after = cursor.condition(terms, rowidSQL: rowid)
            page = "(\(page)) AND \(after.sql)"
            pageArguments += after.arguments
            offset = 0
        }
        let keys = terms.enumerated().map { "\($1.sql) AS \"burg:k\($0)\"" }
        let orderBy = (terms.map { "\($0.sql) \($0.descending ? "DESC" : "ASC")" } + ["\(rowid) ASC"]).joined(separator: ", ")
        // One row more than the page tells whether another page follows.
        let rows = try Row.fetchAll(HotStatements.statement(db, sql: """
            SELECT \(table).*, \((keys + ["\(rowid) AS \"burg:rowid\""]).joined(separator: ", ")) FROM \(table)
            WHERE \(page) ORDER BY \(orderBy) LIMIT ? OFFSET ?
            """), arguments: pageArguments + [query.perPage + 1, offset])
        let pageRows = rows.prefix(query.perPage)
        let layout = rows.first.map { RowLayout($0, collection) }
        let items = try pageRows.map { try Self.record(from: $0, layout!) }
        var nextCursor: String?
        if rows.count > query.perPage, let last = pageRows.last {
            nextCursor = ListCursor(
                sort: query.sort, keys: terms.indices.map { ListCursor.value(last["burg:k\($0)"]) }, rowid: last["burg:rowid"]).token
        }
        var total = -1
        if !query.skipTotal {
            total = try Int.fetchOne(
                HotStatements.statement(db, sql: "SELECT COUNT(*) FROM \(table) WHERE \(condition.sql)"), arguments: StatementArguments(condition.arguments)) ?? 0
        }
        return ListResult(
            page: query.page, perPage: query.perPage, totalItems: total,
            totalPages: total < 0 ? -1 : (total + query.perPage - 1) / query.perPage, items: items, nextCursor: nextCursor)
    }

    // MARK: Rows

    static func fetch(_ db: Database, _ collection: CollectionModel, _ id: String) throws -> RecordModel {
        let statement = try db.cachedStatement(sql: "SELECT * FROM \(quoteIdentifier(collection.name)) WHERE \"id\" = ?")
        guard let row = try Row.fetchOne(statement, arguments: [id]) else {
            throw RecordError(code: .notFound, collection: collection.name, message: "no record with id \(id)")
        }
        return try record(from: row, collection)
    }

    static func record(from row: Row, _ collection: CollectionModel, includeHidden: Bool = false) throws -> RecordModel {
        try record(from: row, RowLayout(row, collection, includeHidden: includeHidden))
    }

    /// Where a collection's columns sit in the rows of one query: looked up by name once, then read by
    /// position for every row (GRDB's lookup by name is case-insensitive and costs a lowercasing).
    struct RowLayout {
        let collection: CollectionModel
        let id: Int?, created: Int?, updated: Int?
        /// The fields to return (hidden ones only when asked) and their column, if the row has it.
        let fields: [(field: Field, column: Int?)]

        init(_ row: Row, _ collection: CollectionModel, includeHidden: Bool = false) {
            var positions: [String: Int] = [:]
            for (index, name) in row.columnNames.enumerated() where positions[name] == nil { positions[name] = index }
            self.collection = collection
            id = positions["id"]
            created = positions["created"]
            updated = positions["updated"]
            // Hidden fields (an auth record's password hash, token key) never leave the store as record JSON.
            fields = collection.fields.filter { includeHidden || !$0.hidden }.map { ($0, positions[$0.name]) }
        }
    }

    static func record(from row: Row, _ layout: RowLayout) throws -> RecordModel {
        var values: [String: JSONValue] = [:]
        values.reserveCapacity(layout.fields.count + 5)  // room for the system keys `json` adds
        for (field, column) in layout.fields {
            let stored: DatabaseValue = column.map { row[$0] } ?? .null
            if field.storesJSON {
                if let text = String.fromDatabaseValue(stored) { values[field.name] = (try? JSONValue.parse(text)) ?? .null } else { values[field.name] = .null }
                continue
            }
            switch field.type {
            case .number: values[field.name] = .number(Double.fromDatabaseValue(stored) ?? 0)
            case .bool: values[field.name] = .bool((Int64.fromDatabaseValue(stored) ?? 0) != 0)
            default: values[field.name] = .string(String.fromDatabaseValue(stored) ?? "")
            }
        }
        func text(_ column: Int?) throws -> String {
            guard let column, let text = String.fromDatabaseValue(row[column]) else {
                throw RecordError(code: .invalidQuery, collection: layout.collection.name, message: "a row of \(layout.collection.name) lacks its system columns")
            }
            return text
        }
        return RecordModel(
            id: try text(layout.id), collectionId: layout.collection.id, collectionName: layout.collection.name,
            created: try text(layout.created), updated: try text(layout.updated), values: values)
    }

    static func databaseValue(_ value: RecordValidator.ColumnValue) -> (any DatabaseValueConvertible)? {
        switch value {
        case .text(let text): text
        case .real(let real): real
        case .integer(let integer): integer
        case .null: nil
        }
    }

    /// Runs `body`, turning a UNIQUE violation into `validation_not_unique` on the field concerned.
    static func mappingConstraints(_ collection: CollectionModel, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            let message = error.message ?? ""
            let names = (["id"] + collection.fields.map(\.name)).filter { message.contains("\(collection.name).\($0)") }
            var fields: [String: FieldError] = [:]
            for name in names { fields[name] = FieldError("validation_not_unique", "Value must be unique.") }
            if fields.isEmpty { throw error }
            throw RecordValidationError(collection: collection.name, fields: fields)
        }
    }
}
