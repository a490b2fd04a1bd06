import BurgCore
import BurgStore
import Foundation
internal import GRDB
internal import GRDBSQLite
import Synchronization
import SystemPackage

/// How an import reads and commits.
public struct ImportOptions: Sendable {
    public enum Format: String, Sendable, CaseIterable { case ndjson, csv }
    public enum OnError: String, Sendable, CaseIterable {
        /// Stop at the first bad line; batches committed before it stay, nothing after it is committed.
        case abort
        /// Report the bad line and go on.
        case skip
    }

    public var format: Format = .ndjson
    public var batchSize: Int = 1_000
    /// The largest ``batchSize`` accepted (a batch is one transaction held in memory).
    public static let maxBatchSize = 100_000
    /// Validate only; commit nothing.
    public var dryRun: Bool = false
    public var onError: OnError = .abort
    /// At most this many line errors are kept in the report (all are counted).
    public var maxReportedErrors: Int = 100
    /// A line (a CSV record, with its quoted line breaks) longer than this stops the import: memory
    /// stays bounded whatever the input, `/dev/zero` included.
    public var maxLineLength: Int = 16 << 20

    public init() {}
}

/// A line that could not be imported.
public struct ImportLineError: Sendable, Equatable, Encodable {
    public var line: Int
    public var message: String
    public var fields: [String: FieldError]
}

/// What an import did.
public struct ImportReport: Sendable, Equatable, Encodable {
    public var lines = 0
    public var imported = 0
    public var failed = 0
    public var committedBatches = 0
    public var bytesRead = 0
    public var aborted = false
    public var errors: [ImportLineError] = []
}

/// Progress of a running import, for progress bars.
public struct ImportProgress: Sendable {
    public var bytesRead: Int
    public var totalBytes: Int?
    public var lines: Int
    public var imported: Int
    public var failed: Int
}

/// Why an import could not run at all (as opposed to bad lines, which the report lists).
public struct ImportError: CodedError {
    public enum Code: Sendable, CaseIterable { case cannotOpen, badHeader, aborted, lineTooLong }
    public var code: Code
    public var path: String
    public var message: String
    public var report: ImportReport?

    public init(code: Code, path: String, message: String, report: ImportReport? = nil) {
        self.code = code
        self.path = path
        self.message = message
        self.report = report
    }

    public var description: String { "import of \(path): \(message)" }
    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .cannotOpen: ExitStatus.noInput
        case .badHeader, .aborted, .lineTooLong: ExitStatus.dataError
        }
    }
}

/// Streams NDJSON or CSV into a collection: memory stays flat whatever the file size; rows are validated
/// as they are read and committed in batches (one write transaction each).
public struct RecordImporter: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// Imports the file at `path`. With `.abort`, the first bad line throws ``ImportError`` (`.aborted`,
    /// carrying the report): batches before it stay committed, the batch it was in is not.
    public func importFile(
        _ path: FilePath, into collectionName: String, options: ImportOptions = ImportOptions(),
        progress: (ImportProgress) -> Void = { _ in }
    ) throws -> ImportReport {
        // "-" is standard input: a stream from another program, of unknown size.
        let standardInput = path.string == "-"
        let descriptor = standardInput ? STDIN_FILENO : open(path.string, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ImportError(code: .cannotOpen, path: path.string, message: SystemError(call: "open", errno: errno).message)
        }
        defer { if !standardInput { close(descriptor) } }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ImportError(code: .cannotOpen, path: path.string, message: SystemError(call: "fstat", errno: errno).message)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw ImportError(code: .cannotOpen, path: path.string,
                message: "is a directory; name an NDJSON or CSV file in it, or - for standard input")
        }
        let totalBytes = (status.st_mode & S_IFMT) == S_IFREG ? Int(status.st_size) : nil
        return try run(LineReader(descriptor: descriptor, maxLineLength: options.maxLineLength), name: path.string, totalBytes: totalBytes,
                       into: collectionName, options: options, progress: progress)
    }

    private func run(
        _ reader: LineReader, name: String, totalBytes: Int?, into collectionName: String, options: ImportOptions,
        progress: (ImportProgress) -> Void
    ) throws -> ImportReport {
        var reader = reader
        let collection = try CollectionRegistry(store: store).get(collectionName)
        let validator = RecordValidator(collection)
        var report = ImportReport()
        var batch: [InsertStatement.Row] = []
        var header: [String]?
        var csv = CSVRecordParser()
        var recordStartLine = 0
        let insert = InsertStatement(collection)

        // While one batch is being written (on `writer`), the next is parsed and validated here: on two
        // cores, parsing and inserting overlap. At most one batch is in flight; its outcome is applied
        // to the report on this thread, in order, before the next batch goes out.
        let writer = BatchWriterThread()
        var inFlight: BatchWriterThread.Pending?

        func fail(_ line: Int, _ message: String, _ fields: [String: FieldError] = [:]) throws {
            // An earlier batch still being written decides first: its failure is the earlier line.
            if options.onError == .abort { try settle() }
            report.failed += 1
            if report.errors.count < options.maxReportedErrors {
                report.errors.append(ImportLineError(line: line, message: message, fields: fields))
            }
            if options.onError == .abort {
                report.aborted = true
                report.bytesRead = reader.bytesRead
                throw ImportError(code: .aborted, path: name, message: "line \(line): \(message); stopped, "
                    + "\(report.imported) records committed before it, nothing after", report: report)
            }
        }

        /// Waits for the batch in flight and applies its outcome.
        func settle() throws {
            guard let pending = inFlight else { return }
            inFlight = nil
            switch pending.wait() {
            case .success(let outcome):
                report.imported += outcome.inserted
                report.committedBatches += 1
                for (line, error) in outcome.failures { try fail(line, error.description, error.fields) }
            case .failure(let failure as ImportBatchFailure):
                try fail(failure.line, failure.error.description, failure.error.fields)
            case .failure(let error):
                throw error
            }
            progress(ImportProgress(bytesRead: reader.bytesRead, totalBytes: totalBytes, lines: report.lines,
                                    imported: report.imported, failed: report.failed))
        }

        func flush() throws {
            guard !batch.isEmpty else { return }
            try settle()
            if options.dryRun {
                report.imported += batch.count
                progress(ImportProgress(bytesRead: reader.bytesRead, totalBytes: totalBytes, lines: report.lines,
                                        imported: report.imported, failed: report.failed))
            } else {
                let rows = batch
                let skip = options.onError == .skip
                inFlight = writer.submit { [store] in try store.write { db in try insert.run(db.sqlite, rows, skipBadRows: skip) } }
            }
            batch.removeAll(keepingCapacity: true)
        }
        defer { _ = inFlight?.wait() }  // never leave a write running behind a thrown error

        func nextLine() throws -> ArraySlice<UInt8>? {
            do {
                return try reader.next()
            } catch let error as LineReader.LineTooLong {
                try settle()  // the batch in flight decides first, and counts as committed before it
                report.bytesRead = reader.bytesRead
                throw ImportError(code: .lineTooLong, path: name,
                    message: "line \(report.lines + 1) is longer than \(error.bytes) bytes, so this is not NDJSON or CSV with one record a line "
                        + "(or its records are that large: raise the limit with --max-line-length); \(report.imported) records committed before it",
                    report: report)
            }
        }
        var csvRecordBytes = 0
        while let line = try nextLine() {
            report.lines += 1
            let values: [String: JSONValue]
            switch options.format {
            case .ndjson:
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
                guard case .object(let object)? = line.withUnsafeBufferPointer({ try? JSONValue.parse($0) }) else {
                    try fail(report.lines, "not a JSON object")
                    continue
                }
                values = object
                recordStartLine = report.lines
            case .csv:
                if !csv.isIncomplete { recordStartLine = report.lines; csvRecordBytes = 0 }
                // A quoted field's line breaks join lines into one record, which the same limit bounds.
                csvRecordBytes += line.count + 1
                if csvRecordBytes > options.maxLineLength {
                    throw ImportError(code: .lineTooLong, path: name,
                        message: "the CSV record from line \(recordStartLine) is longer than \(options.maxLineLength) bytes "
                            + "(a quote that is never closed?); \(report.imported) records committed before it", report: report)
                }
                let fields: [String]
                do {
                    guard let complete = try csv.consume(line) else { continue }
                    fields = complete
                } catch {
                    csv = CSVRecordParser()
                    try fail(report.lines, "malformed CSV (\(error))")
                    continue
                }
                guard let names = header else {
                    let unknown = fields.filter { collection.field(named: $0) == nil && !CollectionModel.systemFields.contains($0) }
                    guard unknown.isEmpty else {
                        throw ImportError(code: .badHeader, path: name,
                            message: "header names unknown fields: \(unknown.joined(separator: ", ")) (known: \(collection.fields.map(\.name).joined(separator: ", ")))")
                    }
                    header = fields
                    continue
                }
                guard fields.count == names.count else {
                    try fail(recordStartLine, "has \(fields.count) fields, the header has \(names.count)")
                    continue
                }
                var object: [String: JSONValue] = [:]
                for (key, text) in zip(names, fields) where !["created", "updated"].contains(key) {
                    let field = collection.field(named: key)
                    if field?.storesJSON == true, let parsed = try? JSONValue.parse(text) {
                        object[key] = parsed
                    } else {
                        object[key] = .string(text)
                    }
                }
                values = object
            }
            var fieldValues = values
            let id = fieldValues.removeValue(forKey: "id").flatMap { if case .string(let s) = $0 { s } else { nil } }
            fieldValues.removeValue(forKey: "created")
            fieldValues.removeValue(forKey: "updated")
            fieldValues.removeValue(forKey: "collectionId")
            fieldValues.removeValue(forKey: "collectionName")
            if let id, !RecordID.isValid(id) {
                try fail(recordStartLine, "invalid id \(id)", ["id": FieldError("validation_invalid_value", "Must be 15 characters of a-z and 0-9.")])
                continue
            }
            do {
                batch.append(InsertStatement.Row(line: recordStartLine, id: id, columns: try validator.columns(fieldValues)))
            } catch {
                try fail(recordStartLine, error.description, error.fields)
                continue
            }
            if batch.count >= options.batchSize { try flush() }
        }
        if csv.isIncomplete { try fail(recordStartLine, "a quoted CSV field is never closed") }
        try flush()
        try settle()
        report.bytesRead = reader.bytesRead
        return report
    }
}

/// The prepared INSERT of one collection, run for a batch inside one transaction.
///
/// Values are bound with SQLite's own calls: through GRDB's generic argument path (an existential and
/// an array per row), binding cost more than SQLite's insert itself.
struct InsertStatement: Sendable {
    struct Row: Sendable {
        var line: Int
        var id: String?
        /// In the order of the collection's fields (``RecordValidator/columns(_:existing:)``).
        var columns: [RecordValidator.ColumnValue?]
    }

    let collection: CollectionModel
    let sql: String

    init(_ collection: CollectionModel) {
        self.collection = collection
        let names = ["\"id\"", "\"created\"", "\"updated\""] + collection.fields.map { quoteIdentifier($0.name) }
        sql = "INSERT INTO \(quoteIdentifier(collection.name)) (\(names.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))"
    }

    struct Outcome: Sendable { var inserted = 0; var failures: [(Int, RecordValidationError)] = [] }

    /// Inserts the rows. A constraint violation (duplicate unique value) fails the whole batch, or with
    /// `skipBadRows` skips just that row (each row in its own savepoint).
    func run(_ db: Database, _ rows: [Row], skipBadRows: Bool) throws -> Outcome {
        let before = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(rowid), 0) FROM \(quoteIdentifier(collection.name))") ?? 0
        let outcome = try SearchIndex.bulkInsert(db, collection, after: before) { try insert(db, rows, skipBadRows: skipBadRows) }
        try ChangeFeed.appendCreates(db, collection, afterRowid: before)
        return outcome
    }

    private func insert(_ db: Database, _ rows: [Row], skipBadRows: Bool) throws -> Outcome {
        // Prepared per batch, not cached: after a failed step SQLite's reset reports that failure once
        // more, so a statement that failed is replaced rather than reused.
        var statement = try db.makeStatement(sql: sql)
        let now = FilterSQL.formatDate(Date())
        var outcome = Outcome()
        for row in rows {
            if skipBadRows { try db.execute(sql: "SAVEPOINT burg_row") }
            let handle = statement.sqliteStatement
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            Self.bind(handle, 1, .text(row.id ?? RecordID.generate()))
            Self.bind(handle, 2, .text(now))
            Self.bind(handle, 3, .text(now))
            for (offset, column) in row.columns.enumerated() { Self.bind(handle, Int32(offset + 4), column ?? .null) }
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE {
                if skipBadRows { try db.execute(sql: "RELEASE burg_row") }
                outcome.inserted += 1
                continue
            }
            let error = DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(db.sqliteConnection)),
                                      message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
            statement = try db.makeStatement(sql: sql)
            do {
                try RecordStore.mappingConstraints(collection) { throw error }
            } catch let failure as RecordValidationError {
                if skipBadRows {
                    try db.execute(sql: "ROLLBACK TO burg_row")
                    try db.execute(sql: "RELEASE burg_row")
                    outcome.failures.append((row.line, failure))
                } else {
                    throw ImportBatchFailure(line: row.line, error: failure)
                }
            }
        }
        return outcome
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func bind(_ handle: SQLiteStatement, _ index: Int32, _ value: RecordValidator.ColumnValue) {
        switch value {
        case .text(let text):
            var text = text
            text.withUTF8 { bytes in
                _ = bytes.withMemoryRebound(to: CChar.self) { chars in
                    // An empty text is still text (''), not NULL.
                    guard let base = chars.baseAddress else { return sqlite3_bind_text(handle, index, "", 0, nil) }
                    return sqlite3_bind_text(handle, index, base, Int32(chars.count), transient)
                }
            }
        case .real(let real): sqlite3_bind_double(handle, index, real)
        case .integer(let integer): sqlite3_bind_int64(handle, index, integer)
        case .null: sqlite3_bind_null(handle, index)
        }
    }
}

/// Runs one batch write at a time on a serial queue of its own (off Swift's cooperative pool: the writes
/// block on SQLite), handing back the outcome to whoever waits for it.
final class BatchWriterThread: Sendable {
    private let queue = DispatchQueue(label: "burg.import.writer")

    final class Pending: Sendable {
        private let done = DispatchSemaphore(value: 0)
        private let result = Mutex<Result<InsertStatement.Outcome, any Error>?>(nil)

        fileprivate func finish(_ outcome: Result<InsertStatement.Outcome, any Error>) {
            result.withLock { $0 = outcome }
            done.signal()
        }

        /// Blocks until the write finished; returns its outcome (again on later calls).
        func wait() -> Result<InsertStatement.Outcome, any Error> {
            if let known = result.withLock({ $0 }) { return known }
            done.wait()
            return result.withLock { $0! }
        }
    }

    func submit(_ write: @escaping @Sendable () throws -> InsertStatement.Outcome) -> Pending {
        let pending = Pending()
        queue.async { pending.finish(Result { try write() }) }
        return pending
    }
}

/// A row of a batch broke a constraint in abort mode: the batch's transaction is rolled back.
struct ImportBatchFailure: Error {
    var line: Int
    var error: RecordValidationError
}
