import ArgumentParser
import BurgBackup
import BurgCore
import Foundation
import SystemPackage

/// `burg backup list|create|verify|restore|prune`.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Consistent online backups, verified by restoring them; restore and retention.",
        discussion: """
            Archives go to <data dir>/backups/ as burg-<time>.zip (.zip.enc when encrypted). Every new
            archive is verified (hashes, restored database, integrity_check, row counts) before `create`
            reports success. Exit codes: 0 ok, 65 corrupt or inconsistent archive, 66 missing file,
            74 I/O error (disk full), 75 a server holds the data directory, 77 wrong key or passphrase.
            """,
        subcommands: [Create.self, List.self, Verify.self, Restore.self, Prune.self]
    )

    /// How an archive is encrypted or opened.
    struct KeyOptions: ParsableArguments {
        @Option(help: "Key file (32 bytes) for encrypted archives; `create --encrypt` makes it if missing.") var keyFile: String?
        @Flag(help: "Read a passphrase from the first line of standard input instead of a key file.") var passphraseStdin = false

        func key(dataDir: DataDirOptions, creating: Bool) throws -> BackupKey? {
            if passphraseStdin {
                return .passphrase(readLine(strippingNewline: true) ?? "")
            }
            guard let keyFile else { return nil }
            let path = FilePath(keyFile)
            if creating, !FileManager.default.fileExists(atPath: keyFile) {
                _ = try BackupKey.createKeyFile(at: path)
                printError("created key file \(keyFile) (mode 0600): copy it somewhere safe, away from this machine — without it the encrypted backups cannot be restored")
            }
            return .keyFile(path)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Back up the data directory now (safe while `burg serve` runs).")
        @OptionGroup var dataDir: DataDirOptions
        @Flag(help: "Encrypt the archive (AES-256-GCM) with --key-file (default <data dir>/backup.key) or --passphrase-stdin.") var encrypt = false
        @OptionGroup var keyOptions: KeyOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                var options = keyOptions
                if encrypt, options.keyFile == nil, !options.passphraseStdin { options.keyFile = dataDir.filePath.appending("backup.key").string }
                let key = encrypt ? try options.key(dataDir: dataDir, creating: true) : nil
                let store = try dataDir.openStore()
                let bar = ProgressBar(label: "backup")
                let result = try BackupCreator(store: store, dataDirectory: dataDir.filePath, knownMigrations: BurgSchema.migrations.identifiers)
                    .create(key: key) { progress in
                        bar.update(done: Int(progress.done), total: progress.total > 0 ? Int(progress.total) : nil, detail: progress.step.rawValue)
                    }
                bar.finish()
                if json { return try RecordsCLI.printJSON(result.record) }
                print("\(result.path.string)\t\(ProgressBar.bytes(Double(result.record.size)))\tverified in \(result.record.durationMilliseconds) ms")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List backups with their verification result.")
        @OptionGroup var dataDir: DataDirOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let records = try BackupHistory(store: dataDir.openStore()).list()
                if json { return try RecordsCLI.printJSON(records) }
                for record in records {
                    print("\(record.file)\t\(record.createdAt)\t\(ProgressBar.bytes(Double(record.size)))\t\(record.verified ? "verified" : "FAILED: \(record.error)")")
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check an archive: hashes, a trial restore, integrity_check, row counts.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The archive.") var file: String
        @OptionGroup var keyOptions: KeyOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let bar = ProgressBar(label: "verify")
                let verification = try BackupVerifier(knownMigrations: BurgSchema.migrations.identifiers)
                    .verify(FilePath(file), key: try keyOptions.key(dataDir: dataDir, creating: false)) { done, total in
                        bar.update(done: Int(done), total: Int(total), detail: "")
                    }
                bar.finish()
                if json { return try RecordsCLI.printJSON(verification.manifest) }
                let rows = verification.manifest.collections.values.reduce(0, +)
                print("ok: \(verification.manifest.entries.count) entries, \(rows) records, made \(verification.manifest.createdAt) by Burg \(verification.manifest.burgVersion)")
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the data directory with a backup's state, keeping the previous one beside it.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The archive.") var file: String
        @OptionGroup var keyOptions: KeyOptions
        @Flag(help: "Stop a running `burg serve` on the data directory (SIGTERM) instead of refusing.") var stopServer = false

        func run() async throws {
            try await reportingErrors {
                try DataDirectory.prepare(dataDir.filePath)
                let bar = ProgressBar(label: "restore")
                let result = try BackupRestorer(knownMigrations: BurgSchema.migrations.identifiers).restore(
                    FilePath(file), key: try keyOptions.key(dataDir: dataDir, creating: false), into: dataDir.filePath,
                    stopServer: stopServer) { done, total in bar.update(done: Int(done), total: Int(total), detail: "") }
                bar.finish()
                print("restored \(file) into \(result.dataDirectory.string); the previous state is in \(result.previous.string)")
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete archives the retention policy does not keep.")
        @OptionGroup var dataDir: DataDirOptions
        @Option(help: "Keep the newest N.") var keepLast = RetentionPolicy().keepLast
        @Option(help: "Keep the newest of each of the last N days.") var daily = RetentionPolicy().daily
        @Option(help: "Keep the newest of each of the last N weeks.") var weekly = RetentionPolicy().weekly
        @Option(help: "Keep the newest of each of the last N months.") var monthly = RetentionPolicy().monthly
        @Flag(help: "Only print what would be deleted.") var dryRun = false

        func validate() throws {
            guard [keepLast, daily, weekly, monthly].allSatisfy({ $0 >= 0 }), keepLast >= 1 else {
                throw ValidationError("counts must be ≥ 0 and --keep-last ≥ 1")
            }
        }

        func run() async throws {
            try await reportingErrors {
                var policy = RetentionPolicy()
                policy.keepLast = keepLast
                policy.daily = daily
                policy.weekly = weekly
                policy.monthly = monthly
                let deleted = try BackupCatalog.prune(dataDir.filePath.appending("backups"), policy: policy, dryRun: dryRun)
                for name in deleted { print((dryRun ? "would delete " : "deleted ") + name) }
            }
        }
    }
}
