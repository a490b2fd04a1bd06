import BurgAuth
import BurgRecords
import BurgStore

/// Records as a response or a realtime event shows them, from PocketBase's query options:
/// `expand=owner,tags.group` adds the related records the caller may view under `"expand"` (dotted
/// paths expand the expanded records in turn, up to 6 levels), and `fields=id,title` keeps only the
/// named top-level keys (`*` for all; `expand` is kept when named). The records routes and the realtime
/// broker (a subscription's `options.query`) both shape through here.
enum RecordShape {
    static func apply(
        _ records: [RecordModel], _ collection: CollectionModel, _ caller: RecordCaller, _ query: [String: String], store: RecordStore
    ) async throws -> [JSONValue] {
        let paths = try ExpandPaths(query["expand"] ?? "", collection: collection.name)
        let fields = (query["fields"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let expanded = paths.isEmpty
            ? records.map { ExpandedRecord(record: $0, collection: collection, expand: nil) }
            : try await BlockingWork.run { try store.expand(records, in: collection, paths: paths, for: caller) }
        var shaped = expanded.map { RecordPresenter.present($0, for: caller) }
        if !fields.isEmpty && !fields.contains("*") {
            shaped = shaped.map { value in
                guard case .object(let object) = value else { return value }
                return .object(object.filter { fields.contains($0.key) })
            }
        }
        return shaped
    }
}
