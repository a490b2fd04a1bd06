import ArgumentParser
import BurgCore

@main
struct BurgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burg",
        abstract: "A self-hosted backend that never loses data.",
        discussion: """
            Every command works on a data directory (--data-dir, default ./burg_data).

            Exit codes: 0 success, 1 failure, 64 bad command line, 65 malformed data, 66 missing input,
            69 unavailable (e.g. network file system refused), 70 internal error, 73 cannot create output,
            74 I/O error, 75 busy: try again (e.g. Burg already running), 77 permission denied, 78 bad configuration.
            """,
        version: BurgVersion.current,
        subcommands: [
            ServeCommand.self, DBCommand.self, CollectionsCommand.self, RecordsCommand.self, ImportCommand.self,
            ExportCommand.self, ValidateCommand.self, InitCommand.self, SeedCommand.self, FilesCommand.self, BenchCommand.self, SuperuserCommand.self, BackupCommand.self, JobsCommand.self, WorkerCommand.self,
        ]
    )
}
