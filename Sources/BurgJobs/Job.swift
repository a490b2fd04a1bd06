import Foundation
internal import GRDB

/// The states of a job. `available` → `running` → `succeeded`; a failed attempt returns to `available`
/// (later, with backoff) until `maxAttempts`, then `discarded`; `cancelled` by request.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case available, running, succeeded, failed, cancelled, discarded

    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled || self == .discarded }
}

/// A job as stored.
public struct Job: Sendable, Codable, Equatable {
    public var id: Int64
    public var kind: String
    /// JSON text.
    public var args: String
    public var queue: String
    public var priority: Int
    public var state: JobState
    public var runAt: Double
    public var attempt: Int
    public var maxAttempts: Int
    public var worker: String?
    public var progressDone: Int?
    public var progressTotal: Int?
    public var progressMessage: String?
    public var result: String?
    public var error: String?
    public var uniqueKey: String?
    public var cancelRequested: Bool
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?

    init(row: Row) {
        id = row["id"]
        kind = row["kind"]
        args = row["args"]
        queue = row["queue"]
        priority = row["priority"]
        state = JobState(rawValue: row["state"]) ?? .failed
        runAt = row["run_at"]
        attempt = row["attempt"]
        maxAttempts = row["max_attempts"]
        worker = row["worker"]
        progressDone = row["progress_done"]
        progressTotal = row["progress_total"]
        progressMessage = row["progress_message"]
        result = row["result"]
        error = row["error"]
        uniqueKey = row["unique_key"]
        cancelRequested = row["cancel_requested"]
        createdAt = row["created_at"]
        startedAt = row["started_at"]
        finishedAt = row["finished_at"]
    }

    /// Percent done, when the handler reported a total.
    public var percent: Double? {
        guard let progressDone, let progressTotal, progressTotal > 0 else { return nil }
        return min(100, Double(progressDone) * 100 / Double(progressTotal))
    }
}

/// What to enqueue.
public struct JobRequest: Sendable {
    public var kind: String
    /// JSON text (an object).
    public var args: String
    public var queue: String = "default"
    public var priority: Int = 0
    /// Delay before the first attempt.
    public var delay: Duration = .zero
    public var maxAttempts: Int?
    /// A second job with the same kind and key within `uniqueWindow` (or while the first is still
    /// queued or running) is not enqueued; the first one's id is returned.
    public var uniqueKey: String?
    public var uniqueWindow: Duration = .seconds(3600)

    public init(kind: String, args: String = "{}") {
        self.kind = kind
        self.args = args
    }
}
