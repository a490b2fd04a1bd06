import BurgCore
import Foundation

/// A kind of job: its name, limits, and the handler. Adding a kind is one type conforming to this and
/// one `register` call.
public protocol JobKind: Sendable {
    /// `records.import`, `backup.create`, …
    var name: String { get }
    /// An attempt running longer is cancelled and counts as failed.
    var timeout: Duration { get }
    var maxAttempts: Int { get }
    /// Refuses bad arguments at enqueue time (nothing is enqueued). Default: any JSON object.
    func validate(arguments: String) throws
    /// Runs one attempt. Throwing fails the attempt; task cancellation means the job was cancelled or
    /// timed out. Returns a short result text (JSON or plain) kept with the job.
    func run(arguments: String, context: JobContext) async throws -> String?
}

extension JobKind {
    public var timeout: Duration { .seconds(3600) }
    public var maxAttempts: Int { 5 }
    public func validate(arguments: String) throws {}

    /// Decodes the arguments, turning a mismatch into a clear `invalidArguments`.
    public func decode<T: Decodable>(_ type: T.Type, from arguments: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(arguments.utf8))
        } catch {
            throw JobError(.invalidArguments, "arguments of \(name) do not fit: \(error)")
        }
    }
}

/// The kinds a process knows.
public struct JobRegistry: Sendable {
    private var kinds: [String: any JobKind] = [:]

    public init(_ kinds: [any JobKind] = [NoopJob()]) {
        for kind in kinds { register(kind) }
    }

    public mutating func register(_ kind: any JobKind) {
        kinds[kind.name] = kind
    }

    public func kind(named name: String) -> (any JobKind)? { kinds[name] }
    public var names: [String] { kinds.keys.sorted() }
}

/// Does nothing; for measuring the queue itself.
public struct NoopJob: JobKind {
    public init() {}
    public var name: String { "noop" }
    public func run(arguments: String, context: JobContext) async throws -> String? { nil }
}
