import BurgAuth
import BurgStore
import BurgTestSupport
import Foundation
import GRDB
import Testing

@Suite struct SuperuserCLITests {
    @Test func burgSuperuserUpsertCreatesASuperuserWhoCanSignInAndRefusesAShortPassword() async throws {
        let dir = try TemporaryDirectory()
        let create = try ChildProcess(BuiltProducts.burg, ["superuser", "upsert", "Root@Example.com", "long enough", "--bcrypt-cost", "4", "--data-dir", dir.path.string])
        #expect(try await create.wait() == 0, "\(create.standardError)")
        #expect(create.lines.joined().contains("root@example.com saved"))

        let short = try ChildProcess(BuiltProducts.burg, ["superuser", "upsert", "root@example.com", "short", "--data-dir", dir.path.string])
        #expect(try await short.wait() == 65)
        #expect(short.standardError.contains("password"))

        let list = try ChildProcess(BuiltProducts.burg, ["superuser", "list", "--data-dir", dir.path.string])
        #expect(try await list.wait() == 0)
        #expect(list.lines.first?.hasPrefix("root@example.com\t") == true)

        // The stored hash checks out (read directly: the CLI's store has every module's migrations).
        let database = try DatabaseQueue(path: dir.path("data.db").string)
        let hash = try await database.read { db in
            try String.fetchOne(db, sql: "SELECT password FROM _superusers WHERE email = 'root@example.com'")
        }
        let hasher = PasswordHasher(cost: 4, threads: 1)
        #expect(await hasher.verify("long enough", hash: try #require(hash)))
    }

    /// Auth's own collections cannot be deleted, by the CLI as by the API (both ask BurgAuth), even with
    /// --force; any other collection can.
    @Test func theUsersAndSuperusersCollectionsCannotBeDeletedButOthersCan() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        #expect(try ChildProcess.run(["init", "--template", "clinic", "--data-dir", data]).status == 0)
        // Creating a superuser sets up auth's collections.
        let upsert = try ChildProcess.run(["superuser", "upsert", "root@example.com", "long enough", "--bcrypt-cost", "4", "--data-dir", data])
        #expect(upsert.status == 0, "\(upsert.standardError)")
        for name in ["users", "_superusers"] {
            let refused = try ChildProcess.run(["collections", "delete", name, "--force", "--data-dir", data])
            #expect(refused.status == 65, "\(name): \(refused.standardError)")
            #expect(refused.standardError.contains("cannot be deleted"), "\(refused.standardError)")
        }
        let list = try ChildProcess.run(["collections", "list", "--data-dir", data]).lines.joined(separator: "\n")
        #expect(list.contains("users") && list.contains("_superusers"), "\(list)")
        let deleted = try ChildProcess.run(["collections", "delete", "procedures", "--force", "--data-dir", data])
        #expect(deleted.status == 0, "\(deleted.standardError)")
    }
}
