import BurgStore

/// The async forms of ``CollectionRegistry``'s blocking calls, on ``BlockingWork``'s threads.
extension CollectionRegistry {
    public func list() async throws -> [CollectionModel] {
        try await BlockingWork.run { try self.list() }
    }

    public func get(_ name: String) async throws -> CollectionModel {
        try await BlockingWork.run { try self.get(name) }
    }

    @discardableResult
    public func create(_ collection: CollectionModel) async throws -> CollectionModel {
        try await BlockingWork.run { try self.create(collection) }
    }

    @discardableResult
    public func createAll(_ collections: [CollectionModel]) async throws -> [CollectionModel] {
        try await BlockingWork.run { try self.createAll(collections) }
    }

    public func delete(_ name: String, force: Bool = false) async throws {
        try await BlockingWork.run { try self.delete(name, force: force) }
    }

    @discardableResult
    public func update(_ name: String, to new: CollectionModel, force: Bool = false) async throws -> CollectionModel {
        try await BlockingWork.run { try self.update(name, to: new, force: force) }
    }
}
