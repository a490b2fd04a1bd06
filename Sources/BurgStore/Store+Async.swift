import SystemPackage

/// The async forms of ``Store``'s blocking maintenance and inspection calls: each runs on
/// ``BlockingWork``'s threads, so an async caller never blocks Swift's cooperative pool (the blocking
/// forms are `noasync`; reads and writes have async forms of their own).
extension Store {
    @discardableResult
    public func checkpoint(_ mode: CheckpointResult.Mode = .passive) async throws -> CheckpointResult {
        try await BlockingWork.run { try self.checkpoint(mode) }
    }

    public func optimize() async throws {
        try await BlockingWork.run { try self.optimize() }
    }

    public func vacuum() async throws {
        try await BlockingWork.run { try self.vacuum() }
    }

    public func vacuum(into target: FilePath) async throws {
        try await BlockingWork.run { try self.vacuum(into: target) }
    }

    public func schemaVersion() async throws -> SchemaVersion {
        try await BlockingWork.run { try self.schemaVersion() }
    }

    public func health(quickCheckBudget: Duration = .seconds(2)) async throws -> StoreHealth {
        try await BlockingWork.run { try self.health(quickCheckBudget: quickCheckBudget) }
    }

    public func info() async throws -> StoreInfo {
        try await BlockingWork.run { try self.info() }
    }
}
