import ArgumentParser
import BurgAuth
import BurgCore
import BurgRecords
import BurgStore
import Foundation
import SystemPackage

/// `burg collections list|show|create|delete`.
struct CollectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collections",
        abstract: "List, show, create and delete collections, and bring deleted ones back (safe while `burg serve` runs).",
        subcommands: [List.self, Show.self, Create.self, Delete.self, Trash.self, Restore.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the collections.")
        @OptionGroup var dataDir: DataDirOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let collections = try await CollectionRegistry(store: dataDir.openStore()).list()
                if json { return try RecordsCLI.printJSON(collections) }
                for collection in collections {
                    print("\(collection.name)\t\(collection.fields.count) fields\t\(collection.fields.map(\.name).joined(separator: ", "))")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a collection's definition as JSON.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The collection's name.") var name: String

        func run() async throws {
            try await reportingErrors {
                try RecordsCLI.printJSON(try await CollectionRegistry(store: dataDir.openStore()).get(name))
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a collection from a JSON definition.",
            discussion: """
                FILE holds {"name": "...", "fields": [{"name": "...", "type": "text|number|bool|email|url|date|autodate|select|json|relation|file|editor|geoPoint", ...}], "indexes": ["CREATE [UNIQUE] INDEX name ON collection (field [COLLATE NOCASE] [DESC], ...) [WHERE ...]"]} — PocketBase's format; an index may also be {"name": "...", "fields": ["..."], "unique": false}. Use - for standard input.
                """)
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The JSON definition file, or - for standard input.") var file: String

        func run() async throws {
            try await reportingErrors {
                let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try RecordsCLI.readInput(file)
                let collection: CollectionModel
                do {
                    collection = try JSONDecoder().decode(CollectionModel.self, from: data)
                } catch {
                    throw CLIInputError(message: "\(file) is not a collection definition: \(error)")
                }
                let created = try await CollectionRegistry(store: dataDir.openStore(create: true)).create(collection)
                print("created collection \(created.name) (\(created.fields.count) fields)")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a collection: into the trash, with its records and files, restorable for 7 days.",
            discussion: "`burg collections trash` lists deleted collections and `burg collections restore NAME` brings one back whole. A collection that another collection's relation field refers to is refused (exit 65) until that field is removed.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The collection's name.") var name: String
        @Flag(help: "Drop it at once, records and files, instead of keeping it in the trash.") var purge = false
        @Flag(help: .hidden) var force = false

        func run() async throws {
            try await reportingErrors {
                let trashId = try AuthCollections.delete(name, in: CollectionRegistry(store: dataDir.openStore()), purge: purge)
                if let trashId {
                    print("deleted collection \(name) into the trash (\(trashId)); `burg collections restore \(name)` brings it back for 7 days")
                } else {
                    print("deleted collection \(name), records and files, for good")
                }
            }
        }
    }

    struct Trash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List deleted collections that can still be restored, newest first.",
            discussion: "Entries older than the retention are purged first (their tables dropped and files removed).")
        @OptionGroup var dataDir: DataDirOptions
        @Flag(help: "Print JSON.") var json = false
        @Option(help: "Days a deleted collection stays restorable.") var keepDays = 7

        func validate() throws {
            guard (0...36_500).contains(keepDays) else { throw ValidationError("--keep-days must be 0…36500, not \(keepDays)") }
        }

        func run() async throws {
            try await reportingErrors {
                let registry = CollectionRegistry(store: try dataDir.openStore())
                let purged = try await registry.purgeTrash(olderThan: .seconds(keepDays * 24 * 3600))
                let entries = try await registry.trash()
                if json { return try RecordsCLI.printJSON(entries) }
                for entry in purged { print("purged \(entry.collection.name) (\(entry.trashId)), deleted \(entry.deletedAt)") }
                if entries.isEmpty { print("the trash is empty") }
                for entry in entries {
                    print("\(entry.collection.name)\t\(entry.records) records\tdeleted \(entry.deletedAt)\t\(entry.trashId)")
                }
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring a deleted collection back whole: table, records, indexes and files.",
            discussion: "NAME is the collection's name (its newest deletion is restored) or a trash id from `burg collections trash`. Refused (exit 73) while a collection of that name or id exists.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The deleted collection's name, or its trash id.") var name: String

        func run() async throws {
            try await reportingErrors {
                let restored = try await CollectionRegistry(store: try dataDir.openStore()).restore(name)
                print("restored collection \(restored.name)")
            }
        }
    }
}

/// Helpers shared by the records commands.
enum RecordsCLI {

    static func printJSON(_ value: some Encodable) throws {
        try DBCommand.printJSON(value)
    }

    static func readInput(_ path: String) throws -> Data {
        guard let bytes = try AtomicFile.read(FilePath(path)) else {
            throw CLIInputError(message: "\(path) does not exist", exitCode: ExitStatus.noInput)
        }
        return Data(bytes)
    }
}

/// A command-line input that cannot be used (a missing or malformed file).
struct CLIInputError: BurgError {
    var message: String
    var exitCode: Int32 = ExitStatus.dataError
    var description: String { message }
}
