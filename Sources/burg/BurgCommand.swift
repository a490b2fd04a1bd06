import ArgumentParser
import BurgCore
import Foundation

@main
struct BurgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burg",
        abstract: "A self-hosted backend that never loses data.",
        discussion: """
            Every command works on a data directory (--data-dir, default ./burg_data). Standard output carries what a command reports (a summary line, a table, or JSON with --json); progress and diagnostics go to standard error, diagnostics as JSON lines.

            Exit codes: 0 success, 1 failure, 64 bad command line, 65 malformed data, 66 missing input, 69 unavailable (e.g. network file system refused), 70 internal error, 73 cannot create (e.g. the collection already exists), 74 I/O error, 75 busy: try again (e.g. Burg already running, port taken), 77 permission denied, 78 bad configuration, 130 interrupted.
            """,
        version: BurgVersion.current,
        subcommands: [
            ServeCommand.self, DBCommand.self, CollectionsCommand.self, RecordsCommand.self, ImportCommand.self,
            ExportCommand.self, ValidateCommand.self, InitCommand.self, SeedCommand.self, FilesCommand.self, BenchCommand.self, SuperuserCommand.self, BackupCommand.self, JobsCommand.self, WorkerCommand.self,
        ]
    )

    /// ArgumentParser's `main`, with three changes: a value that looks like an option gets a message that
    /// says how to write it; logging is set up once the command is known (JSON lines on stderr, from
    /// notice up, for commands whose stdout is their result); and an error thrown while a command runs is
    /// reported as `burg: <message>` without the usage of `burg` itself, which says nothing about it.
    nonisolated static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            if let hint = CommandLineHints.optionLikeValue(message: message(for: error), arguments: arguments) {
                let full = fullMessage(for: error)
                let rest = full.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().joined()
                writeStandardError("Error: " + hint + "\n" + rest + (rest.hasSuffix("\n") ? "" : "\n"))
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
            exit(withError: error)
        }
        // Compared by metatype: a dynamic cast to a protocol here could pick up an isolated conformance.
        let kind = ObjectIdentifier(type(of: command))
        if !logsOnTheirOwn.contains(where: { ObjectIdentifier($0) == kind }) {
            JSONLogHandler.bootstrap(file: nil, logLevel: .notice, stream: .standardError)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch let error as ValidationError {
            printError(error.message)
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}

/// Commands that set up logging themselves (long-running; their log is their output).
private let logsOnTheirOwn: [any ParsableCommand.Type] = [ServeCommand.self, WorkerCommand.self]
