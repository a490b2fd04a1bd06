import BurgJobs
import BurgRecords
import Foundation

/// A job as a person reads it (`burg jobs show`): times in UTC, arguments and result as the JSON they
/// are, not as escaped strings inside JSON. `--json` gives the same with ISO 8601 times.
struct JobView: Encodable {
    var id: Int64
    var kind: String
    var queue: String
    var priority: Int
    var state: String
    var attempt: Int
    var maxAttempts: Int
    var args: JSONValue
    var progress: Progress?
    var result: JSONValue?
    var error: String?
    var uniqueKey: String?
    var worker: String?
    var cancelRequested: Bool
    var createdAt: String
    var runAt: String
    var startedAt: String?
    var finishedAt: String?

    struct Progress: Encodable {
        var done: Int?
        var total: Int?
        var percent: Double?
        var message: String?
    }

    init(_ job: Job) {
        id = job.id
        kind = job.kind
        queue = job.queue
        priority = job.priority
        state = job.state.rawValue
        attempt = job.attempt
        maxAttempts = job.maxAttempts
        args = (try? JSONValue.parse(job.args)) ?? .string(job.args)
        if job.progressDone != nil || job.progressMessage != nil {
            progress = Progress(done: job.progressDone, total: job.progressTotal, percent: job.percent, message: job.progressMessage)
        }
        result = job.result.map { (try? JSONValue.parse($0)) ?? .string($0) }
        error = job.error
        uniqueKey = job.uniqueKey
        worker = job.worker
        cancelRequested = job.cancelRequested
        createdAt = Self.iso(job.createdAt)
        runAt = Self.iso(job.runAt)
        startedAt = job.startedAt.map(Self.iso)
        finishedAt = job.finishedAt.map(Self.iso)
    }

    /// `job 12 records.import: discarded after attempt 1/1`, then one `name: value` line per known fact.
    var lines: [String] {
        var lines = ["job \(id) \(kind): \(state), attempt \(attempt)/\(maxAttempts)\(cancelRequested ? ", cancel requested" : "")"]
        func add(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            lines.append((name + ":").padding(toLength: 12, withPad: " ", startingAt: 0) + value)
        }
        add("queue", "\(queue), priority \(priority)")
        add("arguments", args.jsonText)
        if let progress {
            let counts = progress.done.map { done in progress.total.map { "\(done) of \($0)" } ?? "\(done)" }
            let percent = progress.percent.map { " (\(Int($0)) %)" } ?? ""
            add("progress", [counts.map { $0 + percent }, progress.message].compactMap { $0 }.joined(separator: ", "))
        }
        add("result", result?.jsonText)
        add("error", error)
        add("unique key", uniqueKey)
        add("worker", worker)
        add("created", Self.human(createdAt))
        add("runs at", Self.human(runAt))
        add("started", startedAt.map(Self.human))
        add("finished", finishedAt.map(Self.human))
        return lines
    }

    /// `2026-12-02T10:22:55.123Z`.
    static func iso(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    /// `2026-12-02 10:22:55 UTC` from the ISO form.
    static func human(_ iso: String) -> String {
        String(iso.prefix(19)).replacingOccurrences(of: "T", with: " ") + " UTC"
    }
}
