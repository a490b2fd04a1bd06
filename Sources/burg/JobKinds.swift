import BurgBackup
import BurgCore
import BurgJobs
import BurgRecords
import BurgStore
import Foundation
import SystemPackage

/// The job kinds of this executable: BurgJobs knows only `noop`; kinds that use other modules live here,
/// one small type each.
enum BurgJobKinds {
    static func registry(store: Store, dataDirectory: FilePath) -> JobRegistry {
        var registry = JobRegistry()
        registry.register(RecordsImportJob(store: store, dataDirectory: dataDirectory))
        registry.register(BackupCreateJob(store: store, dataDirectory: dataDirectory))
        registry.register(RecordsValidateJob(store: store))
        // Kinds for the test suite's crash and timing tests; never present in a normal run.
        if ProcessInfo.processInfo.environment["BURG_TEST_JOB_KINDS"] == "1" {
            registry.register(TestRecordIDJob(store: store))
            registry.register(TestSleepJob())
            registry.register(TestCrashJob())
        }
        return registry
    }
}

/// Imports an NDJSON or CSV file under the data directory into a collection: `{"collection", "file", "format"?}`.
/// `file` is relative to the data directory (the worker may run elsewhere); it must exist when the job
/// is enqueued.
struct RecordsImportJob: JobKind {
    let store: Store
    let dataDirectory: FilePath
    var name: String { "records.import" }
    var maxAttempts: Int { 1 }

    struct Arguments: Decodable {
        var collection: String
        var file: String
        var format: String?
    }

    func validate(arguments: String) throws {
        let parsed = try decode(Arguments.self, from: arguments)
        guard !parsed.file.contains(".."), !parsed.file.hasPrefix("/") else {
            throw JobError(.invalidArguments, "records.import takes a file path relative to the data directory, without ..")
        }
        let path = dataDirectory.appending(parsed.file)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.string, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw JobError(.invalidArguments,
                "records.import: there is no file \(path) — \"file\" is relative to the data directory \(dataDirectory), so copy the file there first (e.g. into \(dataDirectory.appending("uploads"))/) and name it as \"uploads/<name>\"")
        }
        guard parsed.format.map({ ImportOptions.Format(rawValue: $0) != nil }) ?? true else {
            throw JobError(.invalidArguments, "format is ndjson or csv")
        }
    }

    func run(arguments: String, context: JobContext) async throws -> String? {
        let parsed = try decode(Arguments.self, from: arguments)
        var options = ImportOptions()
        options.format = parsed.format.flatMap(ImportOptions.Format.init(rawValue:)) ?? (parsed.file.hasSuffix(".csv") ? .csv : .ndjson)
        let report = try RecordImporter(store: store).importFile(dataDirectory.appending(parsed.file), into: parsed.collection, options: options) { progress in
            context.progress(progress.bytesRead, of: progress.totalBytes, message: "\(progress.imported) imported, \(progress.failed) failed")
        }
        return "{\"imported\": \(report.imported), \"failed\": \(report.failed)}"
    }
}

/// Makes a verified backup (the scheduled-backup kind): `{}`.
struct BackupCreateJob: JobKind {
    let store: Store
    let dataDirectory: FilePath
    var name: String { "backup.create" }
    var maxAttempts: Int { 3 }

    func run(arguments: String, context: JobContext) async throws -> String? {
        let result = try BackupCreator(store: store, dataDirectory: dataDirectory, knownMigrations: BurgSchema.migrations.identifiers).create { progress in
            context.progress(Int(progress.done), of: progress.total > 0 ? Int(progress.total) : nil, message: progress.step.rawValue)
        }
        return "{\"file\": \"\(result.record.file)\", \"bytes\": \(result.record.size)}"
    }
}

/// Checks every stored record of a collection against its current schema: `{"collection"}`.
struct RecordsValidateJob: JobKind {
    let store: Store
    var name: String { "records.validate" }

    struct Arguments: Decodable { var collection: String }

    func validate(arguments: String) throws { _ = try decode(Arguments.self, from: arguments) }

    func run(arguments: String, context: JobContext) async throws -> String? {
        let collection = try decode(Arguments.self, from: arguments).collection
        // The same checker as `burg validate`: keyset chunks, several threads, a per-record timeout.
        let cancellation = BatchCancellation()
        let report = try await withTaskCancellationHandler {
            try RecordBatchValidator(store: store).validateStored(collection, cancellation: cancellation) { progress in
                context.progress(progress.done, of: progress.total, message: "\(progress.failed) invalid")
            }
        } onCancel: {
            cancellation.cancel()
        }
        try Task.checkCancellation()
        return "{\"checked\": \(report.checked), \"invalid\": \(report.invalid + report.timedOut)}"
    }
}

/// Test kind: inserts its job id into `_test_job_ids` idempotently, counting runs (re-runs after kills).
struct TestRecordIDJob: JobKind {
    let store: Store
    var name: String { "test.record-id" }

    struct Arguments: Decodable { var sleepMs: Int? }

    func run(arguments: String, context: JobContext) async throws -> String? {
        let sleep = (try? decode(Arguments.self, from: arguments))?.sleepMs ?? 0
        if sleep > 0 { try await Task.sleep(for: .milliseconds(sleep)) }
        let id = context.jobID
        try await store.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS _test_job_ids (id INTEGER PRIMARY KEY, runs INTEGER NOT NULL)")
            try db.execute(sql: "INSERT INTO _test_job_ids (id, runs) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET runs = runs + 1", arguments: [.integer(id)])
        }
        return nil
    }
}

/// Test kind: sleeps `{"ms"}` reporting progress; honours cancellation; times out after `{"timeoutMs"}` by kind default 1 s.
struct TestSleepJob: JobKind {
    var name: String { "test.sleep" }
    var timeout: Duration { .seconds(1) }
    var maxAttempts: Int { 2 }

    struct Arguments: Decodable { var ms: Int }

    func validate(arguments: String) throws { _ = try decode(Arguments.self, from: arguments) }

    func run(arguments: String, context: JobContext) async throws -> String? {
        let ms = try decode(Arguments.self, from: arguments).ms
        for step in 0..<max(1, ms / 10) {
            try await Task.sleep(for: .milliseconds(10))
            context.progress(step + 1, of: max(1, ms / 10))
        }
        return "{\"slept\": \(ms)}"
    }
}

/// Test kind: kills its own process (a crashing handler).
struct TestCrashJob: JobKind {
    var name: String { "test.crash" }
    func run(arguments: String, context: JobContext) async throws -> String? {
        kill(getpid(), SIGKILL)
        return nil
    }
}
