import ArgumentParser
import BurgCore
import BurgRecords
import Dispatch
import Foundation

/// `burg validate <collection>`.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every stored record of a collection against its current schema (changes nothing).",
        discussion: """
            Records are checked on several threads (--workers, default one per core); a record whose check takes longer than --timeout is reported as validation_timeout and the run goes on. SIGINT stops it early and reports what was checked. Exit status: 0 all valid, 65 some invalid, 130 stopped.
            """)
    @OptionGroup var dataDir: DataDirOptions
    @Argument(help: "The collection.") var collection: String
    @Option(help: "Threads checking records at once.") var workers: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Seconds one record may take.") var timeout: Double = 10
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        try OptionRange.check(workers, "--workers", 1...1024, "threads")
        try OptionRange.check(timeout, "--timeout", 0.001...86_400, "seconds")
    }

    func run() async throws {
        try await reportingErrors {
            var options = BatchValidationOptions()
            options.workers = workers
            options.itemTimeout = .milliseconds(Int64(timeout * 1000))
            let cancellation = BatchCancellation()
            signal(SIGINT, SIG_IGN)
            let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
            interrupt.setEventHandler { cancellation.cancel() }
            interrupt.resume()
            defer { interrupt.cancel() }
            let bar = ProgressBar(label: "validating \(collection)", unit: "records")
            let report: BatchValidationReport
            do {
                report = try RecordBatchValidator(store: dataDir.openStore())
                    .validateStored(collection, options: options, cancellation: cancellation) { progress in
                        bar.update(done: progress.done, total: progress.total, detail: "\(progress.failed) invalid")
                    }
            } catch {
                bar.finish(completed: false, outcome: "failed")
                throw error
            }
            bar.update(done: report.checked, total: report.total, detail: "\(report.invalid + report.timedOut) invalid")
            bar.finish(completed: !report.cancelled, outcome: report.cancelled ? "interrupted" : nil)
            if json {
                try RecordsCLI.printJSON(report)
            } else {
                for issue in report.errors {
                    let fields = issue.fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.code) (\($0.value.message))" }
                    print("\(issue.id): \(fields.joined(separator: "; "))")
                }
                print(String(format: "checked %d of %d records in %.1f s: %d valid, %d invalid, %d timed out%@",
                             report.checked, report.total, report.seconds, report.valid, report.invalid, report.timedOut,
                             report.cancelled ? "; stopped early" : ""))
            }
            if report.cancelled { throw ExitCode(130) }
            if report.invalid + report.timedOut > 0 { throw ExitCode(ExitStatus.dataError) }
        }
    }
}
