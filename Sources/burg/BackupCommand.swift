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
            Archives go to <data dir>/backups/ as burg-<time>.zip (.zip.enc when encrypted). Every new archive is verified (hashes, restored database, integrity_check, row counts) before `create` reports success. Exit codes: 0 ok, 65 corrupt or inconsistent archive, 66 missing file, 74 I/O error (disk full), 75 a server holds the data directory, 77 wrong key or passphrase.
            """,
        subcommands: [Create.self, List.self, Verify.self, Restore.self, Prune.self]
    )

    static func describe(_ step: BackupProgress.Step) -> String {
        switch step {
        case .snapshot: "snapshot of the database"
        case .archive: "archiving"
        case .encrypt: "encrypting"
        case .verify: "verifying"
        }
    }

    /// "1 record", "2 records".
    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }

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
                let result: BackupResult
                do {
                    result = try BackupCreator(store: store, dataDirectory: dataDir.filePath, knownMigrations: BurgSchema.migrations.identifiers)
                        .create(key: key) { progress in
                            bar.update(done: Int(progress.done), total: progress.total > 0 ? Int(progress.total) : nil, detail: BackupCommand.describe(progress.step))
                        }
                } catch {
                    bar.finish(completed: false, outcome: "failed")
                    throw error
                }
                bar.finish(detail: "verified")
                if json { return try RecordsCLI.printJSON(result.record) }
                print("created \(result.path.string) (\(ProgressBar.bytes(Double(result.record.size))), \(BackupCommand.count(result.manifest.collections.values.reduce(0, +), "record")), \(BackupCommand.count(result.manifest.entries.count - 1, "file"))), verified in \(result.record.durationMilliseconds) ms")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the archives in <data dir>/backups with their verification result.",
            discussion: "The list is the archives on disk, each matched with its verification in the backup history (so it survives a restore). An archive the history does not know (copied in, or from another installation) is verified first — hashes against its manifest, a trial restore — and the result recorded; encrypted ones need --key-file (default <data dir>/backup.key when it exists) or --passphrase-stdin.")
        @OptionGroup var dataDir: DataDirOptions
        @OptionGroup var keyOptions: KeyOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                var options = keyOptions
                let defaultKey = dataDir.filePath.appending("backup.key")
                if options.keyFile == nil, !options.passphraseStdin, FileManager.default.fileExists(atPath: defaultKey.string) {
                    options.keyFile = defaultKey.string
                }
                let inventory = BackupInventory(store: try dataDir.openStore())
                let bar = ProgressBar(label: "verifying archives the history does not know")
                let archives = try inventory.verifyUnrecorded(
                    knownMigrations: BurgSchema.migrations.identifiers, key: try options.key(dataDir: dataDir, creating: false)
                ) { file, done, total in bar.update(done: Int(done), total: Int(total), detail: file) }
                if !bar.isIdle { bar.finish() }
                if json { return try RecordsCLI.printJSON(archives) }
                let verified = archives.filter { $0.status == .verified }.count
                print("\(BackupCommand.count(archives.count, "archive")) in \(inventory.directory), \(verified) verified")
                for archive in archives {
                    let status = switch archive.status {
                    case .verified: "verified"
                    case .failed: "FAILED: \(archive.error)"
                    case .unverified: "unverified: \(archive.error)"
                    }
                    print("\(archive.file)\t\(archive.createdAt)\t\(ProgressBar.bytes(Double(archive.size)))\t\(status)")
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
                let bar = ProgressBar(label: "verifying \(file)")
                let verification: BackupVerification
                do {
                    verification = try BackupVerifier(knownMigrations: BurgSchema.migrations.identifiers)
                        .verify(FilePath(file), key: try keyOptions.key(dataDir: dataDir, creating: false)) { done, total in
                            bar.update(done: Int(done), total: Int(total), detail: "")
                        }
                } catch {
                    bar.finish(completed: false, outcome: "failed")
                    throw error
                }
                bar.finish()
                if json { return try RecordsCLI.printJSON(verification.manifest) }
                let manifest = verification.manifest
                let rows = manifest.collections.values.reduce(0, +)
                print("\(file) is intact: \(BackupCommand.count(rows, "record")) in \(BackupCommand.count(manifest.collections.count, "collection")), \(BackupCommand.count(manifest.entries.count - 1, "file")) besides the database, made \(manifest.createdAt) by Burg \(manifest.burgVersion)")
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the data directory with a backup's state, keeping the previous one beside it.",
            discussion: "Refuses while `burg serve` runs on the data directory, unless --stop-server (SIGTERM, then up to 30 s for it to finish): the server then stays stopped and the command that starts it again is printed; --restart starts it again itself, with the same command line, once the restore is done (or failed, leaving the data directory unchanged). The backup history and backups/ carry over, so `burg backup list` still shows every archive verified.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The archive.") var file: String
        @OptionGroup var keyOptions: KeyOptions
        @Flag(help: "Stop a running `burg serve` on the data directory (SIGTERM) instead of refusing.") var stopServer = false
        @Flag(help: "Stop a running `burg serve` (as --stop-server) and start it again after the restore.") var restart = false

        func run() async throws {
            try await reportingErrors {
                guard FileManager.default.fileExists(atPath: file) else {
                    throw BackupError(.notFound, path: file, "no such file; `burg backup list` shows the archives in \(dataDir.filePath.appending("backups"))")
                }
                let server = (stopServer || restart) ? ServerCommandLine.of(dataDir: dataDir.filePath) : nil
                try DataDirectory.prepare(dataDir.filePath)
                let bar = ProgressBar(label: "restoring \(file)")
                let result: RestoreResult
                do {
                    result = try BackupRestorer(knownMigrations: BurgSchema.migrations.identifiers).restore(
                        FilePath(file), key: try keyOptions.key(dataDir: dataDir, creating: false), into: dataDir.filePath,
                        stopServer: stopServer || restart) { done, total in bar.update(done: Int(done), total: Int(total), detail: "") }
                } catch {
                    bar.finish(completed: false, outcome: "failed")
                    if let server, InstanceLock.currentHolder(dataDir: dataDir.filePath) == nil {
                        // The data directory is unchanged: with --restart the server runs again on it.
                        if restart, let pid = try? server.start(dataDir: dataDir.filePath) {
                            printError("the restore failed; burg serve runs again on the unchanged data directory (pid \(pid))")
                        } else {
                            printError("burg serve (pid \(server.pid)) was stopped; start it again with: \(server.shellCommand)")
                        }
                    }
                    throw error
                }
                bar.finish()
                let rows = result.manifest.collections.values.reduce(0, +)
                print("restored \(file) (\(BackupCommand.count(rows, "record")), made \(result.manifest.createdAt)) into \(result.dataDirectory.string); the previous state is in \(result.previous.string)")
                guard let server else { return }
                if restart {
                    let pid = try server.start(dataDir: dataDir.filePath)
                    print("burg serve was stopped for the restore and is running again (pid \(pid)); its log: \(dataDir.filePath.appending("logs/burg.log"))")
                } else {
                    print("burg serve (pid \(server.pid)) was stopped for the restore and is not running; start it again with: \(server.shellCommand)")
                }
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
