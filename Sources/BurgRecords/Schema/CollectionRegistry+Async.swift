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

    @discardableResult
    public func delete(_ name: String, purge: Bool = false) async throws -> String? {
        try await BlockingWork.run { try self.delete(name, purge: purge) }
    }

    public func trash() async throws -> [TrashedCollection] {
        try await BlockingWork.run { try self.trash() }
    }

    @discardableResult
    public func restore(_ name: String) async throws -> CollectionModel {
        try await BlockingWork.run { try self.restore(name) }
    }

    @discardableResult
    public func purgeTrash(olderThan retention: Duration = CollectionRegistry.defaultTrashRetention) async throws -> [TrashedCollection] {
        try await BlockingWork.run { try self.purgeTrash(olderThan: retention) }
    }

    @discardableResult
    public func update(_ name: String, to new: CollectionModel, force: Bool = false) async throws -> CollectionModel {
        try await BlockingWork.run { try self.update(name, to: new, force: force) }
    }
}
