import BurgCore
import Foundation
import Synchronization

/// What a running handler can use: its job's identity, and progress reporting. Reports are cheap to
/// call often: at most a few per second reach the database.
public final class JobContext: Sendable {
    public let jobID: Int64
    public let attempt: Int
    let queue: JobQueue
    private let last = Mutex<(time: Double, pending: (Int, Int?, String?)?)>((0, nil))
    static let interval = 0.25

    init(jobID: Int64, attempt: Int, queue: JobQueue) {
        self.jobID = jobID
        self.attempt = attempt
        self.queue = queue
    }

    /// `done` of `total` units, with an optional message.
    public func progress(_ done: Int, of total: Int? = nil, message: String? = nil) {
        let now = queue.clock.now()
        let due = last.withLock { state -> Bool in
            if now - state.time >= Self.interval {
                state = (now, nil)
                return true
            }
            state.pending = (done, total, message)
            return false
        }
        if due { try? queue.report(jobID, done: done, total: total, message: message) }
    }

    /// The last report the throttle held back, if any; the worker writes it with the job's outcome.
    func takePending() -> JobProgress? {
        last.withLock { state in
            defer { state.pending = nil }
            return state.pending.map { JobProgress(done: $0.0, total: $0.1, message: $0.2) }
        }
    }

}

/// A progress report.
struct JobProgress: Sendable {
    var done: Int
    var total: Int?
    var message: String?
}
