import BurgStore
import Foundation
internal import GRDB

/// A record with the related records PocketBase's `expand` asks for. ``expand`` is nil at a level no
/// expand path reaches, else each named relation field's related records the caller may view, in the
/// order the field lists them.
public struct ExpandedRecord: Sendable {
    public var record: RecordModel
    public var collection: CollectionModel
    public var expand: [String: [ExpandedRecord]]?

    public init(record: RecordModel, collection: CollectionModel, expand: [String: [ExpandedRecord]]?) {
        self.record = record
        self.collection = collection
        self.expand = expand
    }
}

/// `expand=owner,tags.group`: the relation paths to follow, each a list of relation field names.
public struct ExpandPaths: Sendable, Equatable {
    /// How many relation levels one path may follow (PocketBase's limit too).
    public static let maxDepth = 6
    public var paths: [[String]]

    /// Parses the comma-separated list; refuses a path deeper than ``maxDepth`` (`.invalidQuery`).
    public init(_ text: String, collection: String) throws(RecordError) {
        paths = text.split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).split(separator: ".").map(String.init) }
            .filter { !$0.isEmpty }
        if let deep = paths.first(where: { $0.count > Self.maxDepth }) {
            throw RecordError(code: .invalidQuery, collection: collection,
                              message: "Cannot expand \"\(deep.joined(separator: "."))\": at most \(Self.maxDepth) levels.")
        }
    }

    init(paths: [[String]]) { self.paths = paths }
    public var isEmpty: Bool { paths.isEmpty }
}

extension RecordStore {
    /// `records` of `collection` with their relations expanded along `paths`, in one read snapshot:
    /// each relation of each level is one query (`id IN (…)` under the target's view rule for
    /// `caller`), however many records point at however many related ones. A related record the
    /// caller may not view, or a target whose view rule is superusers-only, is left out, not an error;
    /// a path through a field that is not a relation is `.invalidQuery`.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func expand(
        _ records: [RecordModel], in collection: CollectionModel, paths: ExpandPaths, for caller: RecordCaller
    ) throws -> [ExpandedRecord] {
        guard !paths.isEmpty else {
            return records.map { ExpandedRecord(record: $0, collection: collection, expand: nil) }
        }
        return try store.read { db in try Self.expand(db.sqlite, records, collection, paths.paths, caller) }
    }

    private static func expand(
        _ db: Database, _ records: [RecordModel], _ collection: CollectionModel, _ paths: [[String]], _ caller: RecordCaller
    ) throws -> [ExpandedRecord] {
        var result = records.map { ExpandedRecord(record: $0, collection: collection, expand: paths.isEmpty ? nil : [:]) }
        guard !paths.isEmpty, !records.isEmpty else { return result }
        for name in Set(paths.map { $0[0] }).sorted() {
            guard let field = collection.field(named: name), field.type == .relation, let targetName = field.collection else {
                throw RecordError(code: .invalidQuery, collection: collection.name,
                                  message: "Cannot expand \"\(name)\": not a relation field of \(collection.name).")
            }
            let target = try CollectionRegistry.load(db, targetName)
            let ids = records.map { JSONValue.names(in: $0.values[name]) }
            let found = try related(db, Set(ids.joined()), in: target, for: caller)
            let deeper = paths.filter { $0[0] == name && $0.count > 1 }.map { Array($0.dropFirst()) }
            let expandedFound = try expand(db, found, target, deeper, caller)
            let byID = Dictionary(expandedFound.map { ($0.record.id, $0) }, uniquingKeysWith: { first, _ in first })
            for index in result.indices {
                result[index].expand?[name] = ids[index].compactMap { byID[$0] }
            }
        }
        return result
    }

    /// The records of `target` with these ids that `caller` may view, in one statement.
    private static func related(_ db: Database, _ ids: Set<String>, in target: CollectionModel, for caller: RecordCaller) throws -> [RecordModel] {
        guard !ids.isEmpty else { return [] }
        var condition = "1"
        var arguments: StatementArguments = [JSONValue.array(ids.sorted().map(JSONValue.string)).jsonText]
        switch AccessPolicy.decide(.view, on: target, for: caller) {
        case .superusersOnly: return []
        case .unrestricted: break
        case .matching(let access):
            let rule = try compileRule(access.rule, try CollectionFields.reading(db, target), access.context, target)
            condition = rule.sql
            arguments += StatementArguments(rule.arguments)
        }
        let table = quoteIdentifier(target.name)
        let rows = try Row.fetchAll(db, sql: """
            SELECT \(table).* FROM \(table) WHERE \(table)."id" IN (\(SQLDialect.sqlite.jsonArrayValues("?"))) AND (\(condition))
            """, arguments: arguments)
        guard let first = rows.first else { return [] }
        let layout = RowLayout(first, target)
        return try rows.map { try record(from: $0, layout) }
    }
}
