import ArgumentParser
import BurgCore
import BurgRecords
import Foundation
import SystemPackage

/// `burg records list <collection>`.
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Read records (safe while `burg serve` runs).",
        subcommands: [List.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List one page of a collection's records.",
            discussion: "The filter language is PocketBase's: name = 'Ann' && (age > 18 || vip = true), name ~ 'an', customer.name = 'ACME'.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The collection.") var collection: String
        @Option(help: "Filter expression.") var filter: String = ""
        @Option(help: "Sort, e.g. --sort=-created,name (a leading - sorts descending; write it with =).") var sort: String = ""
        @Option(help: "Page number, from 1.") var page: Int = 1
        @Option(name: .customLong("per-page"), help: "Records per page (1-500).") var perPage: Int = 30
        @Option(help: "Continue after the page that printed this cursor (keyset paging; keep the same --sort).") var cursor: String?
        @Flag(help: "Print JSON in PocketBase's list shape.") var json = false

        func run() async throws {
            try await reportingErrors {
                var query = ListQuery()
                query.filter = filter
                query.sort = sort
                query.page = page
                query.perPage = perPage
                query.cursor = cursor
                let result = try await RecordStore(store: dataDir.openStore()).list(collection, query)
                if json {
                    let object: JSONValue = .object([
                        "page": .number(Double(result.page)), "perPage": .number(Double(result.perPage)),
                        "totalItems": .number(Double(result.totalItems)), "totalPages": .number(Double(result.totalPages)),
                        "items": .array(result.items.map(\.json)),
                        "nextCursor": result.nextCursor.map(JSONValue.string) ?? .null,
                    ])
                    print(object.jsonText)
                    return
                }
                for record in result.items { print(record.json.jsonText) }
                let next = result.nextCursor.map { "; next: --cursor \($0)" } ?? ""
                FileHandle.standardError.write(Data("page \(result.page) of \(result.totalPages), \(result.totalItems) records\(next)\n".utf8))
            }
        }
    }
}

extension ImportOptions.Format: ExpressibleByArgument {}
extension ImportOptions.OnError: ExpressibleByArgument {}

/// `burg import <collection> FILE`.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import NDJSON or CSV records into a collection, in batches.",
        discussion: """
            Streams the file (memory stays flat whatever its size), validates every line and commits in batches. A bad line is reported with its line number; with --on-error abort (the default) the import stops there and nothing after the last committed batch is kept. Exit status 65 when a line was bad.
            """)
    @OptionGroup var dataDir: DataDirOptions
    @Argument(help: "The collection.") var collection: String
    @Argument(help: "The NDJSON or CSV file, or - for standard input.") var file: String
    @Option(help: "ndjson or csv (default: from the file's extension).") var format: ImportOptions.Format?
    @Option(name: .customLong("batch-size"), help: "Records per transaction.") var batchSize: Int = 1_000
    @Option(name: .customLong("on-error"), help: "abort or skip.") var onError: ImportOptions.OnError = .abort
    @Option(name: .customLong("max-line-length"), help: "The longest line (or CSV record) accepted, in bytes; a longer one stops the import (default 16 MiB).")
    var maxLineLength: Int = ImportOptions().maxLineLength
    @Flag(name: .customLong("dry-run"), help: "Validate only; commit nothing.") var dryRun = false
    @Option(name: .customLong("max-errors"), help: "Bad lines to list (all are counted).") var maxErrors = ImportOptions().maxReportedErrors
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        do {
            _ = try BoundedNumber.integer(String(batchSize), "--batch-size", in: 1...ImportOptions.maxBatchSize)
            _ = try BoundedNumber.integer(String(maxLineLength), "--max-line-length", in: 1...(1 << 30))
            _ = try BoundedNumber.integer(String(maxErrors), "--max-errors", in: 0...1_000_000)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        try await reportingErrors {
            var options = ImportOptions()
            options.format = format ?? (file.lowercased().hasSuffix(".csv") ? .csv : .ndjson)
            options.batchSize = batchSize
            options.maxLineLength = maxLineLength
            options.onError = onError
            options.dryRun = dryRun
            options.maxReportedErrors = maxErrors
            let store = try dataDir.openStore()
            let bar = ProgressBar(label: "importing \(file)")
            let report: ImportReport
            do {
                report = try RecordImporter(store: store).importFile(FilePath(file), into: collection, options: options) { progress in
                    bar.update(done: progress.bytesRead, total: progress.totalBytes, detail: "\(progress.imported) records, \(progress.failed) bad")
                }
            } catch let error as ImportError {
                bar.finish(completed: false, outcome: "stopped")
                if json, let report = error.report { try RecordsCLI.printJSON(report) }
                throw error
            } catch {
                bar.finish(completed: false, outcome: "failed")
                throw error
            }
            bar.finish(detail: "\(report.imported) records, \(report.failed) bad")
            if json { return try RecordsCLI.printJSON(report) }
            print(ImportCommand.summary(report, dryRun: dryRun))
            for error in report.errors { print("line \(error.line): \(error.message)") }
            if report.failed > report.errors.count {
                print("… and \(report.failed - report.errors.count) more bad lines not listed (\(report.errors.count) of \(report.failed) shown; --max-errors N lists more, --json gives the counts)")
            }
            if report.failed > 0 { throw ExitCode(ExitStatus.dataError) }
        }
    }
}

extension ImportCommand {
    /// `imported 5 records from 11005 lines; 11000 bad lines skipped`.
    static func summary(_ report: ImportReport, dryRun: Bool) -> String {
        let verb = dryRun ? "validated" : "imported"
        var text = "\(verb) \(report.imported) record\(report.imported == 1 ? "" : "s") from \(report.lines) line\(report.lines == 1 ? "" : "s")"
        if report.failed > 0 {
            text += "; \(report.failed) bad line\(report.failed == 1 ? "" : "s")\(report.aborted ? ", stopped at the first" : " skipped")"
        }
        if dryRun { text += " (dry run: nothing was committed)" }
        return text
    }
}

/// `burg export <collection> --format ndjson|csv`.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a collection as NDJSON or CSV (a consistent snapshot), to standard output or a file.")
    @OptionGroup var dataDir: DataDirOptions
    @Argument(help: "The collection.") var collection: String
    @Option(help: "ndjson or csv.") var format: ImportOptions.Format = .ndjson
    @Option(help: "Only records matching this filter.") var filter: String = ""
    @Option(name: .shortAndLong, help: "Write to this file (atomically) instead of standard output.") var output: String?

    func run() async throws {
        try await reportingErrors {
            let exporter = RecordExporter(store: try dataDir.openStore())
            if let output {
                var count = 0
                try AtomicFile.write(to: FilePath(output)) { writer in
                    count = try exporter.export(collection, format: format, filter: filter) { try writer.write(Array($0.utf8)) }
                }
                FileHandle.standardError.write(Data("exported \(count) records to \(output)\n".utf8))
            } else {
                var buffer = ""
                try exporter.export(collection, format: format, filter: filter) { line in
                    buffer += line
                    if buffer.utf8.count > 1 << 16 { FileHandle.standardOutput.write(Data(buffer.utf8)); buffer = "" }
                }
                FileHandle.standardOutput.write(Data(buffer.utf8))
            }
        }
    }
}
