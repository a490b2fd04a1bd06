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
        abstract: "List, show, create and delete collections (safe while `burg serve` runs).",
        subcommands: [List.self, Show.self, Create.self, Delete.self]
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
                FILE holds {"name": "...", "fields": [{"name": "...", "type": "text|number|bool|email|url|date|select|json|relation|file", ...}], "indexes": [{"name": "...", "fields": ["..."], "unique": false}]}. Use - for standard input.
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
        static let configuration = CommandConfiguration(abstract: "Delete a collection and its table.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The collection's name.") var name: String
        @Flag(help: "Delete even if it still holds records.") var force = false

        func run() async throws {
            try await reportingErrors {
                try AuthCollections.delete(name, in: CollectionRegistry(store: dataDir.openStore()), force: force)
                print("deleted collection \(name)")
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
