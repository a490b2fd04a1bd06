import BurgCore
import BurgStore
import Foundation
import GRDB

/// A stored record: system fields plus the collection's field values, in PocketBase's JSON shape.
public struct Record: Sendable, Equatable {
    public var id: String
    public var collectionId: String
    public var collectionName: String
    public var created: String
    public var updated: String
    public var values: [String: JSONValue]

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
    public var page: Int = 1
    public var perPage: Int = 30
    public var filter: String = ""
    public var sort: String = ""
    public var skipTotal: Bool = false
    /// Values of `@now` and `@request.*` for the filter and the access rule.
    public var context = FilterContext()
    /// An access rule (filter language) every listed record must also match; `nil` or `""`: none.
    public var rule: String?
    public init() {}
}

/// A page of records with exact totals (`-1` when `skipTotal`).
public struct ListResult: Sendable, Equatable {
    public var page: Int
    public var perPage: Int
    public var totalItems: Int
    public var totalPages: Int
    public var items: [Record]
}

/// Why a record operation failed; nothing was changed.
public struct RecordError: BurgError, Equatable {
    public enum Code: String, Sendable, Equatable {
        case notFound = "record_not_found"
        case invalidQuery = "record_invalid_query"
    }

    public var code: Code
    public var collection: String
    public var message: String

    public var description: String { "collection \"\(collection)\": \(message)" }
    public var exitCode: Int32 { code == .notFound ? ExitStatus.noInput : ExitStatus.usage }
}

/// Creates, reads, changes, deletes and lists records of any collection.
public struct RecordStore: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    @discardableResult
    public func create(_ collectionName: String, _ values: [String: JSONValue], id: String? = nil) throws -> Record {
        try store.write { db in
            let collection = try CollectionRegistry.load(db, collectionName)
            let columns = try RecordValidator(collection).validate(values)
            let now = FilterSQL.formatDate(Date())
            let recordID = id ?? values["id"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? RecordID.generate()
            guard RecordID.isValid(recordID) else {
                throw ValidationError(collection: collection.name, fields: ["id": FieldError("validation_invalid_value", "Must be 15 characters of a-z and 0-9.")])
            }
            var names = ["\"id\"", "\"created\"", "\"updated\""]
            var arguments: [(any DatabaseValueConvertible)?] = [recordID, now, now]
            for field in collection.fields {
                names.append(quoteIdentifier(field.name))
                arguments.append(Self.databaseValue(columns[field.name] ?? .null))
            }
            let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
            try Self.mappingConstraints(collection) {
                try db.execute(
                    sql: "INSERT INTO \(quoteIdentifier(collection.name)) (\(names.joined(separator: ", "))) VALUES (\(placeholders))",
                    arguments: StatementArguments(arguments))
            }
            return try Self.fetch(db, collection, recordID)
        }
    }

    public func get(_ collectionName: String, id: String) throws -> Record {
        try store.read { db in
            let collection = try CollectionRegistry.load(db, collectionName)
            return try Self.fetch(db, collection, id)
        }
    }

    /// Changes the given fields; the others keep their values.
    @discardableResult
    public func update(_ collectionName: String, id: String, _ values: [String: JSONValue]) throws -> Record {
        try store.write { db in
            let collection = try CollectionRegistry.load(db, collectionName)
            let existing = try Self.fetch(db, collection, id)
            let columns = try RecordValidator(collection).validate(values, existing: existing.values)
            var assignments = ["\"updated\" = ?"]
            var arguments: [(any DatabaseValueConvertible)?] = [FilterSQL.formatDate(Date())]
            for field in collection.fields where values[field.name] != nil {
                assignments.append("\(quoteIdentifier(field.name)) = ?")
                arguments.append(Self.databaseValue(columns[field.name] ?? .null))
            }
            arguments.append(id)
            try Self.mappingConstraints(collection) {
                try db.execute(
                    sql: "UPDATE \(quoteIdentifier(collection.name)) SET \(assignments.joined(separator: ", ")) WHERE \"id\" = ?",
                    arguments: StatementArguments(arguments))
            }
            return try Self.fetch(db, collection, id)
        }
    }

    public func delete(_ collectionName: String, id: String) throws {
        try store.write { db in
            let collection = try CollectionRegistry.load(db, collectionName)
            try db.execute(sql: "DELETE FROM \(quoteIdentifier(collection.name)) WHERE \"id\" = ?", arguments: [id])
            if db.changesCount == 0 {
                throw RecordError(code: .notFound, collection: collection.name, message: "no record with id \(id)")
            }
        }
    }

    /// One page of the records matching the filter, in the sort order, with exact totals counted in the
    /// same snapshot as the page (so a concurrent insert cannot make them disagree).
    public func list(_ collectionName: String, _ query: ListQuery) throws -> ListResult {
        guard query.page >= 1, (1...ListQuery.maxPerPage).contains(query.perPage) else {
            throw RecordError(code: .invalidQuery, collection: collectionName,
                message: "page must be ≥ 1 and perPage between 1 and \(ListQuery.maxPerPage)")
        }
        return try store.read { db in
            let collection = try CollectionRegistry.load(db, collectionName)
            let fields = CollectionFields(collection, all: try CollectionRegistry.all(db))
            var condition = try FilterSQL.compile(query.filter, fields: fields, context: query.context)
            if let rule = query.rule, !rule.isEmpty {
                condition = try FilterSQL.compile(rule, fields: fields, context: query.context).and(condition)
            }
            let order = try SortOrder(query.sort, fields: fields).sql(fields: fields)
            let table = quoteIdentifier(collection.name)
            let orderBy = [order, "\(table).\"rowid\""].compactMap { $0 }.joined(separator: ", ")
            let offset = (query.page - 1) * query.perPage
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(table).* FROM \(table) WHERE \(condition.sql) ORDER BY \(orderBy) LIMIT ? OFFSET ?
                """, arguments: condition.arguments + [query.perPage, offset])
            let items = try rows.map { try Self.record(from: $0, collection) }
            var total = -1
            if !query.skipTotal {
                total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE \(condition.sql)", arguments: condition.arguments) ?? 0
            }
            return ListResult(
                page: query.page, perPage: query.perPage, totalItems: total,
                totalPages: total < 0 ? -1 : (total + query.perPage - 1) / query.perPage, items: items)
        }
    }

    // MARK: Rows

    static func fetch(_ db: Database, _ collection: Collection, _ id: String) throws -> Record {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM \(quoteIdentifier(collection.name)) WHERE \"id\" = ?", arguments: [id]) else {
            throw RecordError(code: .notFound, collection: collection.name, message: "no record with id \(id)")
        }
        return try record(from: row, collection)
    }

    static func record(from row: Row, _ collection: Collection) throws -> Record {
        var values: [String: JSONValue] = [:]
        // Hidden fields (an auth record's password hash, token key) never leave the store as record JSON.
        for field in collection.fields where !field.hidden {
            let stored: DatabaseValue = row[field.name]
            if field.isMultiple || field.type == .json {
                if let text = String.fromDatabaseValue(stored) { values[field.name] = (try? JSONValue.parse(text)) ?? .null } else { values[field.name] = .null }
                continue
            }
            switch field.type {
            case .number: values[field.name] = .number(Double.fromDatabaseValue(stored) ?? 0)
            case .bool: values[field.name] = .bool((Int64.fromDatabaseValue(stored) ?? 0) != 0)
            default: values[field.name] = .string(String.fromDatabaseValue(stored) ?? "")
            }
        }
        return Record(
            id: row["id"], collectionId: collection.id, collectionName: collection.name,
            created: row["created"], updated: row["updated"], values: values)
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
    static func mappingConstraints(_ collection: Collection, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            let message = error.message ?? ""
            let names = (["id"] + collection.fields.map(\.name)).filter { message.contains("\(collection.name).\($0)") }
            var fields: [String: FieldError] = [:]
            for name in names { fields[name] = FieldError("validation_not_unique", "Value must be unique.") }
            if fields.isEmpty { throw error }
            throw ValidationError(collection: collection.name, fields: fields)
        }
    }
}
