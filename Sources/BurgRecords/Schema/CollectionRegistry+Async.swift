import BurgStore

/// The async forms of ``CollectionRegistry``'s blocking calls, on ``BlockingWork``'s threads.
extension CollectionRegistry {
    public func list() async throws -> [Collection] {
        try await BlockingWork.run { try self.list() }
    }

    public func get(_ name: String) async throws -> Collection {
        try await BlockingWork.run { try self.get(name) }
    }

    @discardableResult
    public func create(_ collection: Collection) async throws -> Collection {
        try await BlockingWork.run { try self.create(collection) }
    }

    @discardableResult
    public func createAll(_ collections: [Collection]) async throws -> [Collection] {
        try await BlockingWork.run { try self.createAll(collections) }
    }

    public func delete(_ name: String, force: Bool = false) async throws {
        try await BlockingWork.run { try self.delete(name, force: force) }
    }

    @discardableResult
    public func update(_ name: String, to new: Collection, force: Bool = false) async throws -> Collection {
        try await BlockingWork.run { try self.update(name, to: new, force: force) }
    }
}
