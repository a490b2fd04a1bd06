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
            Templates: clinic (patients with photos, consultations, procedures), erp (storage locations,
            customer groups, production orders). A template is created whole or not at all; collections that
            already exist are refused. --encrypt-files writes files.key (0600): record files are then
            encrypted at rest with AES-256-GCM. Back that key up with your backups; without it the files
            cannot be read.
            """)
    @OptionGroup var dataDir: DataDirOptions
    @Option(help: "clinic or erp.") var template: CollectionTemplate?
    @Flag(name: .customLong("encrypt-files"), help: "Encrypt record files at rest (creates files.key).") var encryptFiles = false

    func run() async throws {
        try await reportingErrors {
            let store = try dataDir.openStore(create: true)
            if let template {
                let created = try CollectionRegistry(store: store).createAll(template.collections)
                print("created \(created.map(\.name).joined(separator: ", ")) (\(template.summary))")
            }
            if encryptFiles {
                let key = try FileKey.create(in: dataDir.filePath)
                print("created \(FileKey.path(in: dataDir.filePath).string) (key \(key.idHex)); back it up with your backup key")
            }
            print("data directory \(dataDir.absolutePath) is ready")
        }
    }
}

/// `burg seed <collection> --count N [--seed S]`.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill a collection with realistic test records.",
        discussion: """
            Values follow each field's type, options and name; relations point at existing records of the
            target collection (seed it first); names stay unique past the name pools; the same --seed
            gives the same records. Exit status 65 when a field cannot be generated (a required file, a
            pattern narrower than the generator).
            """)
    @OptionGroup var dataDir: DataDirOptions
    @Argument(help: "The collection.") var collection: String
    @Option(help: "How many records.") var count: Int
    @Option(help: "Random seed, for a reproducible data set.") var seed: UInt64?

    func run() async throws {
        try await reportingErrors {
            guard count >= 0 else { throw ValidationError("--count must be ≥ 0") }
            let bar = ProgressBar(label: "seeding \(collection)", unit: "records")
            let inserted = try RecordSeeder(store: dataDir.openStore()).seed(collection, count: count, seed: seed) { done in
                bar.update(done: done, total: count, detail: "\(done) records")
            }
            bar.finish()
            print("inserted \(inserted) records into \(collection)")
        }
    }
}
