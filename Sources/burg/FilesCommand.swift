import ArgumentParser
import BurgCore
import BurgRecords
import Foundation
import SystemPackage

/// `burg files check|attach|get|rotate-key`.
struct FilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files",
        abstract: "Record files: find orphans and missing files, attach, read back, rotate the encryption key.",
        subcommands: [Check.self, Attach.self, Get.self, RotateKey.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare stored files with the records that name them.",
            discussion: """
                Orphans are files no record names (left by a crash between a file's write and its record's commit); files younger than 10 minutes are only listed, never deleted, as their record may be committing right now. Missing files are named by a record but absent. --verify also reads every file back (decrypting it). Exit status 0 when clean, 65 otherwise.
                """)
        @OptionGroup var dataDir: DataDirOptions
        @Flag(name: .customLong("delete-orphans"), help: "Delete orphaned files (older than 10 minutes).") var deleteOrphans = false
        @Flag(help: "Read every file back, checking encrypted files' authentication.") var verify = false
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let report = try FileCheck(store: dataDir.openStore()).run(deleteOrphans: deleteOrphans, verify: verify)
                if json {
                    try RecordsCLI.printJSON(report)
                } else {
                    for path in report.orphans { print("orphan\(report.deleted.contains(path) ? " (deleted)" : ""): storage/\(path)") }
                    for path in report.recent { print("recent, not a record's yet: storage/\(path)") }
                    for place in report.missing { print("missing: \(place)") }
                    for problem in report.damaged { print("damaged: \(problem)") }
                    print("\(report.filesChecked) files checked: \(report.orphans.count) orphaned (\(report.deleted.count) deleted), "
                        + "\(report.missing.count) missing, \(report.damaged.count) damaged")
                }
                if !report.isClean { throw ExitCode(ExitStatus.dataError) }
            }
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Attach files to a record's file field (checked against the field's limits).")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The collection.") var collection: String
        @Argument(help: "The record id.") var id: String
        @Argument(help: "The file field.") var field: String
        @Argument(help: "Files to attach.") var files: [String]

        func run() async throws {
            try await reportingErrors {
                let uploads = files.map { FileUpload(filename: FilePath($0).lastComponent?.string ?? $0, source: .file(FilePath($0))) }
                let record = try await RecordStore(store: dataDir.openStore()).update(collection, id: id, [:], files: [field: uploads])
                print(record.json.jsonText)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a stored file (decrypted) to a path or standard output.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The collection.") var collection: String
        @Argument(help: "The record id.") var id: String
        @Argument(help: "The stored file name.") var name: String
        @Option(name: .shortAndLong, help: "Write here (atomically) instead of standard output.") var output: String?

        func run() async throws {
            try await reportingErrors {
                let store = try dataDir.openStore()
                let records = RecordStore(store: store)
                let owner = try await CollectionRegistry(store: store).get(collection)
                _ = try await records.get(collection, id: id)
                let keyring = try FileKeyring.load(dataDir.filePath)
                if let output {
                    try AtomicFile.write(to: FilePath(output)) { writer in
                        try records.files.read(collectionId: owner.id, recordId: id, name: name, keyring: keyring) { try writer.write($0) }
                    }
                } else {
                    try records.files.read(collectionId: owner.id, recordId: id, name: name, keyring: keyring) {
                        FileHandle.standardOutput.write(Data($0))
                    }
                }
            }
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Re-encrypt every file with a new key (also encrypts files stored before encryption was on).",
            discussion: """
                The old key stays as files.key.<id> until every file uses the new one, so an interruption loses nothing: run the command again and it finishes the same rotation. Back up the new files.key afterwards.
                """)
        @OptionGroup var dataDir: DataDirOptions
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                _ = try dataDir.openStore()  // refuses a missing or foreign data directory
                let report = try FileKeyRotation(dataDirectory: dataDir.filePath).run()
                if json { return try RecordsCLI.printJSON(report) }
                print("\(report.resumed ? "finished an interrupted rotation" : "rotated") to key \(report.newKeyID): "
                    + "\(report.reencrypted) files re-encrypted, \(report.encryptedPlain) plain files encrypted")
            }
        }
    }
}
