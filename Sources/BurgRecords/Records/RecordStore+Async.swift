import BurgStore

/// The async forms of ``RecordStore``'s blocking calls: each runs on ``BlockingWork``'s threads, so an
/// async caller never blocks Swift's cooperative pool (the blocking forms are `noasync`).
extension RecordStore {
    @discardableResult
    public func create(
        _ collectionName: String, _ values: [String: JSONValue], id: String? = nil, files uploads: [String: [FileUpload]] = [:],
        access: RecordAccess? = nil
    ) async throws -> RecordModel {
        try await BlockingWork.run { try self.create(collectionName, values, id: id, files: uploads, access: access) }
    }

    public func get(_ collectionName: String, id: String, access: RecordAccess? = nil) async throws -> RecordModel {
        try await BlockingWork.run { try self.get(collectionName, id: id, access: access) }
    }

    public func get(
        _ collectionName: String, id: String, access: @escaping @Sendable (CollectionModel) throws -> RecordAccess?
    ) async throws -> (collection: CollectionModel, record: RecordModel) {
        try await BlockingWork.run { try self.get(collectionName, id: id, access: access) }
    }

    public func allows(committed json: JSONValue, in collectionName: String, access: RecordAccess) async throws -> Bool {
        try await BlockingWork.run { try self.allows(committed: json, in: collectionName, access: access) }
    }

    @discardableResult
    public func update(
        _ collectionName: String, id: String, _ values: [String: JSONValue], files uploads: [String: [FileUpload]] = [:],
        access: RecordAccess? = nil
    ) async throws -> RecordModel {
        try await BlockingWork.run { try self.update(collectionName, id: id, values, files: uploads, access: access) }
    }

    public func delete(_ collectionName: String, id: String, access: RecordAccess? = nil) async throws {
        try await BlockingWork.run { try self.delete(collectionName, id: id, access: access) }
    }

    public func list(_ collectionName: String, _ query: ListQuery) async throws -> ListResult {
        try await BlockingWork.run { try self.list(collectionName, query) }
    }

    public func list(
        _ collectionName: String, _ query: ListQuery, rule: @escaping @Sendable (CollectionModel) throws -> String?
    ) async throws -> (collection: CollectionModel, result: ListResult) {
        try await BlockingWork.run { try self.list(collectionName, query, rule: rule) }
    }

    public func expand(
        _ records: [RecordModel], in collection: CollectionModel, paths: ExpandPaths, for caller: RecordCaller
    ) async throws -> [ExpandedRecord] {
        try await BlockingWork.run { try self.expand(records, in: collection, paths: paths, for: caller) }
    }
}
