import BurgStore
import Foundation
internal import GRDB

/// Streams a collection out as NDJSON (one record JSON per line, PocketBase's shape) or CSV (a header,
/// then one row per record; lists and JSON values as JSON text). One read transaction: the export is a
/// consistent snapshot, read by a cursor so that memory stays flat.
public struct RecordExporter: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// Writes every record matching `filter` to `output`, in insertion order; returns how many.
    @discardableResult
    public func export(
        _ collectionName: String, format: ImportOptions.Format, filter: String = "",
        to output: (String) throws -> Void
    ) throws -> Int {
        try store.read { db in
            let collection = try CollectionRegistry.load(db.sqlite, collectionName)
            let fields = CollectionFields(collection, all: try CollectionRegistry.all(db.sqlite))
            let condition = try FilterSQL.compile(filter, fields: fields)
            let table = quoteIdentifier(collection.name)
            if format == .csv {
                try output((CollectionModel.systemFields + collection.fields.map(\.name)).map(CSVRecordParser.escape).joined(separator: ",") + "\n")
            }
            let rows = try Row.fetchCursor(db.sqlite, sql: "SELECT * FROM \(table) WHERE \(condition.sql) ORDER BY rowid", arguments: StatementArguments(condition.arguments))
            var count = 0
            var layout: RecordStore.RowLayout?
            while let row = try rows.next() {
                if layout == nil { layout = RecordStore.RowLayout(row, collection) }
                let record = try RecordStore.record(from: row, layout!)
                switch format {
                case .ndjson:
                    try output(record.json.jsonText + "\n")
                case .csv:
                    let cells = [record.id, record.created, record.updated] + collection.fields.map { field -> String in
                        switch record.values[field.name] ?? .null {
                        case .string(let text): text
                        case .null: ""
                        case .bool(let flag): flag ? "true" : "false"
                        case let other: other.jsonText
                        }
                    }
                    try output(cells.map(CSVRecordParser.escape).joined(separator: ",") + "\n")
                }
                count += 1
            }
            return count
        }
    }
}
