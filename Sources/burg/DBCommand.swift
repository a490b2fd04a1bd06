import ArgumentParser
import BurgCore
import BurgStore
import Foundation
import SystemPackage

/// `burg db ...`: inspect and maintain the database. Every subcommand opens the database as one more
/// process beside a running `burg serve` (they share it safely), and never creates one.
struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Inspect and maintain the database (safe while `burg serve` runs).",
        subcommands: [Info.self, Health.self, Optimize.self, Checkpoint.self, Vacuum.self]
    )


    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func serverLine(_ dataDir: DataDirOptions) -> String {
        if let holder = InstanceLock.currentHolder(dataDir: dataDir.filePath) {
            return "burg serve:     running (pid \(holder.pid), since \(holder.since))"
        }
        return "burg serve:     not running"
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print sizes, modes, versions and the schema of the database.")
        @OptionGroup var dataDir: DataDirOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let info = try await dataDir.openStore().info()
                if json { return try DBCommand.printJSON(info) }
                print("""
                    database:       \(info.path)
                    size:           \(info.databaseBytes) bytes (\(info.pageCount) pages of \(info.pageSize), \(info.freelistPages) free)
                    WAL:            \(info.walBytes) bytes
                    journal mode:   \(info.journalMode)
                    SQLite:         \(info.sqliteVersion)
                    schema:         \(info.schema)
                    file system:    \(info.fileSystem ?? "?")\(info.fileSystemAvailableBytes.map { ", \($0 >> 20) MiB free" } ?? "")
                    \(DBCommand.serverLine(dataDir))
                    """)
            }
        }
    }

    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the database and print a verdict: healthy, degraded or unhealthy.",
            discussion: "Exit status: 0 healthy or degraded, 65 unhealthy, or the error's status when the database cannot be opened.")
        @OptionGroup var dataDir: DataDirOptions
        @Flag(help: "Print JSON.") var json = false
        @Option(help: ArgumentHelp("Time budget of PRAGMA quick_check.", valueName: "seconds")) var budget: Double = 5

        func validate() throws { try OptionRange.check(budget, "--budget", 0.001...86_400, "seconds") }

        func run() async throws {
            try await reportingErrors {
                let health = try await dataDir.openStore().health(quickCheckBudget: .seconds(budget))
                if json {
                    try DBCommand.printJSON(health)
                } else {
                    print("verdict:        \(health.verdict.rawValue)")
                    for reason in health.reasons { print("  reason:       \(reason)") }
                    for note in health.notes { print("  note:         \(note)") }
                    let check = health.quickCheck
                    print("quick_check:    \(check.ok ? "ok" : "FAILED")\(check.completed ? "" : " (stopped early at its budget)") in \(Int(check.milliseconds)) ms")
                    print("WAL:            \(health.info.walBytes) bytes; readers holding snapshots: \(health.walReaders.isEmpty ? "none" : health.walReaders.map(\.description).joined(separator: ", "))")
                    print("journal mode:   \(health.info.journalMode), SQLite \(health.info.sqliteVersion), file system \(health.info.fileSystem ?? "?")")
                    print(DBCommand.serverLine(dataDir))
                }
                if health.verdict == .unhealthy { throw ExitCode(ExitStatus.dataError) }
            }
        }
    }

    struct Optimize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run PRAGMA optimize (refresh the query planner's statistics).")
        @OptionGroup var dataDir: DataDirOptions

        func run() async throws {
            try await reportingErrors {
                try await dataDir.openStore().optimize()
                print("optimized")
            }
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Copy the WAL back into the database file (default: truncate the WAL afterwards).")
        @OptionGroup var dataDir: DataDirOptions
        @Option(help: "passive, full, restart or truncate.") var mode: CheckpointResult.Mode = .truncate

        func run() async throws {
            try await reportingErrors {
                let store = try dataDir.openStore()
                var result = try await store.checkpoint(mode)
                // A running server checkpoints too (every few seconds, briefly): while its checkpoint
                // holds the lock, SQLite answers busy at once, so try again for a few seconds first.
                let deadline = ContinuousClock.now + .seconds(5)
                while result.busy && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                    result = try await store.checkpoint(mode)
                }
                if result.busy {
                    print("checkpoint (\(mode.rawValue)) could not complete: a reader or writer was in the way; WAL is \(result.walBytesAfter) bytes. See `burg db health`.")
                    throw ExitCode(ExitStatus.tempFail)
                }
                print("checkpoint (\(mode.rawValue)): \(result.checkpointedFrames) of \(result.walFrames) frames copied; WAL is \(result.walBytesAfter) bytes")
            }
        }
    }

    struct Vacuum: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compact the database in place, or write a compacted copy with --into.",
            discussion: """
                In place: one transaction (writers wait until it ends; readers go on); needs free space of about twice the database. --into FILE: a consistent, fsync'd copy written without blocking anyone; FILE must not exist.
                """)
        @OptionGroup var dataDir: DataDirOptions
        @Option(help: ArgumentHelp("Write the compacted copy here instead.", valueName: "file")) var into: String?

        func run() async throws {
            try await reportingErrors {
                let store = try dataDir.openStore()
                if let into {
                    try await store.vacuum(into: FilePath(into))
                    print("wrote compacted copy to \(into)")
                } else {
                    let before = try await store.info().databaseBytes
                    try await store.vacuum()
                    print("vacuumed: \(before) -> \(try await store.info().databaseBytes) bytes")
                }
            }
        }
    }
}

extension CheckpointResult.Mode: ExpressibleByArgument {}
