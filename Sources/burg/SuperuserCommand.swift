import ArgumentParser
import BurgAuth
import BurgCore
import BurgRecords
import Foundation
import Logging

/// `burg superuser upsert|list`: administrators, who may do everything through the API.
struct SuperuserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "superuser",
        abstract: "Create superusers or reset their passwords (safe while `burg serve` runs).",
        subcommands: [Upsert.self, List.self]
    )

    struct Upsert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the superuser EMAIL, or set its password if it exists (signing out its sessions).",
            discussion: """
                Pass - as PASSWORD to read it from the first line of standard input, which keeps it out of the process list and the shell history. Passwords have at least 8 characters.

                Exit codes: 0 done, 65 invalid email or password, 75 the database is busy.
                """)
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "The superuser's email address.") var email: String
        @Argument(help: "The password, or - to read it from standard input.") var password: String
        @Option(help: "bcrypt cost for the stored hash (4…31).") var bcryptCost: Int = AuthSettings().bcryptCost

        func validate() throws {
            guard (4...31).contains(bcryptCost) else { throw ArgumentParser.ValidationError("--bcrypt-cost must be 4…31") }
        }

        func run() async throws {
            try await reportingErrors {
                var secret = password
                if secret == "-" { secret = readLine(strippingNewline: true) ?? "" }
                let store = try dataDir.openStore(create: true)
                var settings = AuthSettings()
                settings.bcryptCost = bcryptCost
                let auth = try await Authenticator(store: store, dataDirectory: dataDir.filePath, settings: settings,
                    logger: Logger(label: "burg.superuser"))
                do {
                    let record = try await auth.upsertSuperuser(email: email, password: secret)
                    print("superuser \(email.lowercased()) saved (id \(record.id)); superusers: \(try await auth.superuserCount())")
                } catch let error as RecordValidationError {
                    printError(error.description)
                    throw ExitCode(ExitStatus.dataError)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the superusers' emails.")
        @OptionGroup var dataDir: DataDirOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let page = try await RecordStore(store: dataDir.openStore()).list(AuthCollections.superusers, {
                    var query = ListQuery()
                    query.perPage = ListQuery.maxPerPage
                    query.sort = "email"
                    return query
                }())
                if json { return try RecordsCLI.printJSON(page.items.map(\.json)) }
                for record in page.items {
                    guard case .string(let email)? = record.values["email"] else { continue }
                    print("\(email)\t\(record.id)")
                }
            }
        }
    }
}
