import BurgStore
import Foundation
internal import GRDB

/// How a batch is validated.
public struct BatchValidationOptions: Sendable {
    /// Threads checking records at once (default: one per core).
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    /// A record whose check takes longer is reported as `validation_timeout` and the batch goes on.
    public var itemTimeout: Duration = .seconds(10)
    /// Errors kept in the report (the counts are always exact).
    public var maxReportedErrors = 1_000
    /// Records read from the store per round trip.
    public var chunkSize = 4_096
    public init() {}
}

/// One record that failed, with every field error.
public struct BatchValidationIssue: Sendable, Equatable, Encodable {
    public var id: String
    public var fields: [String: FieldError]
}

/// The outcome of a batch: exact counts, and the first errors with the record each belongs to.
public struct BatchValidationReport: Sendable, Equatable, Encodable {
    public var collection: String
    public var total = 0
    public var checked = 0
    public var valid = 0
    public var invalid = 0
    public var timedOut = 0
    public var cancelled = false
    public var seconds = 0.0
    public var errors: [BatchValidationIssue] = []
}

/// Validates many records at once against their collection's current schema — after a schema change,
/// or before trusting imported data — on several threads, with a per-record timeout, progress and
/// cancellation. It only reads: nothing is changed.
public struct RecordBatchValidator: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// Checks every stored record of `collectionName`, reading it in keyset chunks (memory stays flat
    /// whatever the collection's size).
    public func validateStored(
        _ collectionName: String, options: BatchValidationOptions = BatchValidationOptions(),
        cancellation: BatchCancellation = BatchCancellation(), progress: (BatchProgress) -> Void = { _ in }
    ) throws -> BatchValidationReport {
        let (collection, total) = try store.read { db in
            let collection = try CollectionRegistry.load(db.sqlite, collectionName)
            return (collection, try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM \(quoteIdentifier(collection.name))") ?? 0)
        }
        var lastRowid: Int64 = 0
        let table = quoteIdentifier(collection.name)
        return try validate(collection, total: total, options: options, cancellation: cancellation, progress: progress) {
            let rows = try store.read { db in
                try Row.fetchAll(db.sqlite, sql: "SELECT rowid AS \"burg:rowid\", * FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                 arguments: [lastRowid, options.chunkSize])
            }
            guard let last = rows.last else { return nil }
            lastRowid = last["burg:rowid"]
            let layout = RecordStore.RowLayout(last, collection, includeHidden: true)
            return try rows.map { try RecordStore.record(from: $0, layout) }
        }
    }

    /// Checks the given records (values by field name) against `collection`.
    public func validate(
        _ records: [RecordModel], against collection: CollectionModel, options: BatchValidationOptions = BatchValidationOptions(),
        cancellation: BatchCancellation = BatchCancellation(), progress: (BatchProgress) -> Void = { _ in }
    ) throws -> BatchValidationReport {
        var handed = false
        return try validate(collection, total: records.count, options: options, cancellation: cancellation, progress: progress) {
            defer { handed = true }
            return handed ? nil : records
        }
    }

    private func validate(
        _ collection: CollectionModel, total: Int, options: BatchValidationOptions, cancellation: BatchCancellation,
        progress: (BatchProgress) -> Void, next: () throws -> [RecordModel]?
    ) throws -> BatchValidationReport {
        let validator = RecordValidator(collection)
        var report = BatchValidationReport(collection: collection.name, total: total)
        let started = ContinuousClock.now
        let outcome = try BatchRunner.run(
            total: total, workers: options.workers, timeout: options.itemTimeout, cancellation: cancellation, next: next,
            check: { record in
                do throws(RecordValidationError) {
                    _ = try validator.validate(record.values)
                    return .passed
                } catch {
                    return .failed(error.fields)
                }
            },
            record: { record, outcome in
                var fields: [String: FieldError]
                switch outcome {
                case .passed:
                    report.valid += 1
                    return
                case .failed(let errors):
                    report.invalid += 1
                    fields = errors
                case .timedOut:
                    report.timedOut += 1
                    fields = ["*": FieldError("validation_timeout", "Checking this record took longer than \(options.itemTimeout).")]
                }
                if report.errors.count < options.maxReportedErrors {
                    report.errors.append(BatchValidationIssue(id: record.id, fields: fields))
                }
            },
            progress: progress)
        report.checked = outcome.done
        report.cancelled = outcome.cancelled
        report.seconds = (ContinuousClock.now - started).seconds
        report.errors.sort { $0.id < $1.id }
        return report
    }
}
