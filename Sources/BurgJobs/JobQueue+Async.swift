import BurgStore

/// The async forms of ``JobQueue``'s blocking calls: each runs on ``BlockingWork``'s threads, so an
/// async caller never blocks Swift's cooperative pool (the blocking forms are `noasync`).
extension JobQueue {
    @discardableResult
    public func enqueue(_ request: JobRequest) async throws -> Int64 {
        try await BlockingWork.run { try self.enqueue(request) }
    }

    public func rescueExpired() async throws -> Int {
        try await BlockingWork.run { try self.rescueExpired() }
    }

    public func get(_ id: Int64) async throws -> Job {
        try await BlockingWork.run { try self.get(id) }
    }

    @discardableResult
    public func cancel(_ id: Int64) async throws -> Job {
        try await BlockingWork.run { try self.cancel(id) }
    }

    @discardableResult
    public func retry(_ id: Int64) async throws -> Job {
        try await BlockingWork.run { try self.retry(id) }
    }

    public func list(
        state: JobState? = nil, kind: String? = nil, queue: String? = nil, page: Int = 1, perPage: Int = 30
    ) async throws -> (items: [Job], totalItems: Int) {
        try await BlockingWork.run { try self.list(state: state, kind: kind, queue: queue, page: page, perPage: perPage) }
    }
}
