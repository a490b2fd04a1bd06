import ArgumentParser
import BurgCore
import BurgRecords
import Foundation

extension CollectionTemplate: ExpressibleByArgument {}

/// `burg init [--template clinic|erp] [--encrypt-files]`.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a data directory, optionally with a template's collections and encrypted file storage.",
        discussion: """
            Templates: clinic (patients with photos, consultations, procedures), erp (storage locations, customer groups, production orders). A template is created whole or not at all; collections that already exist are refused. --encrypt-files writes files.key (0600): record files are then encrypted at rest with AES-256-GCM. Back that key up with your backups; without it the files cannot be read.
            """)
    @OptionGroup var dataDir: DataDirOptions
    @Option(help: "clinic or erp.") var template: CollectionTemplate?
    @Flag(name: .customLong("encrypt-files"), help: "Encrypt record files at rest (creates files.key).") var encryptFiles = false

    func run() async throws {
        try await reportingErrors {
            // Refused before anything is written: a key file is never replaced (that would orphan files).
            if encryptFiles, FileManager.default.fileExists(atPath: FileKey.path(in: dataDir.filePath).string) {
                throw CLIInputError(
                    message: "\(FileKey.path(in: dataDir.filePath)) already exists, so record files are already encrypted; nothing was changed. Leave out --encrypt-files, or use `burg files rotate-key` to change the key",
                    exitCode: ExitStatus.cantCreate)
            }
            let store = try dataDir.openStore(create: true)
            var summary = "data directory \(dataDir.absolutePath) is ready"
            if let template {
                do {
                    let created = try await CollectionRegistry(store: store).createAll(template.collections)
                    summary += " with the \(template.rawValue) template: collections \(created.map(\.name).joined(separator: ", "))"
                } catch let error as SchemaError where error.code == .collectionExists {
                    throw CLIInputError(
                        message: "the \(template.rawValue) template was not applied: collection \"\(error.collection)\" already exists in \(dataDir.path) (nothing was changed). It was probably applied before; use another --data-dir for a fresh data directory, or `burg collections delete \(error.collection)` first",
                        exitCode: ExitStatus.cantCreate)
                }
            }
            print(summary)
            if encryptFiles {
                let key = try FileKey.create(in: dataDir.filePath)
                print("record files will be encrypted with \(FileKey.path(in: dataDir.filePath).string) (key \(key.idHex)); back it up with your backup key")
            }
        }
    }
}

/// `burg seed <collection> --count N [--seed S]`.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill a collection with realistic test records.",
        discussion: """
            Values follow each field's type, options and name; relations point at existing records of the target collection (seed it first); names stay unique past the name pools; the same --seed gives the same records. Exit status 65 when a field cannot be generated (a required file, a pattern narrower than the generator).
            """)
    @OptionGroup var dataDir: DataDirOptions
    @Argument(help: "The collection.") var collection: String
    // Unconditional: `--count -3` is a (negative) count to refuse in words, not a missing value.
    @Option(parsing: .unconditional, help: "How many records (0 or more).") var count: Int
    @Option(help: "Random seed, for a reproducible data set.") var seed: UInt64?

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 or more, not \(count); e.g. --count 100") }
        try OptionRange.check(count, "--count", 0...100_000_000, "records")
    }

    func run() async throws {
        try await reportingErrors {
            let bar = ProgressBar(label: "seeding \(collection)", unit: "records")
            let inserted: Int
            do {
                inserted = try RecordSeeder(store: dataDir.openStore()).seed(collection, count: count, seed: seed) { done in
                    bar.update(done: done, total: count, detail: "\(done) records")
                }
            } catch {
                bar.finish(completed: false, outcome: "failed")
                throw error
            }
            bar.finish(detail: "\(inserted) records")
            print("inserted \(inserted) records into \(collection)")
        }
    }
}
