import BurgCore
import BurgStore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing
import GRDB

@Suite struct DBCommandTests {
    @Test func everyDBCommandWorksWhileBurgServeRunsOnTheSameDataDirectory() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data")
        let server = try ChildProcess.burg("serve", "--http", "127.0.0.1:0", "--data-dir", data.string, "--checkpoint-interval", "0.2")
        defer { server.signal(SIGKILL) }
        // Ready once it listens: its database is migrated by then (the file alone exists, empty, earlier,
        // and a loaded machine once stretched that moment across every command below).
        try server.waitForLine(timeout: .seconds(60)) { $0.contains("Server started and listening") }
        #expect(InstanceLock.currentHolder(dataDir: data)?.pid == server.pid)

        for arguments in [
            ["db", "info"], ["db", "info", "--json"], ["db", "health"], ["db", "optimize"],
            ["db", "checkpoint"], ["db", "checkpoint", "--mode", "passive"], ["db", "vacuum"],
            ["db", "vacuum", "--into", dir.path("copy.db").string],
        ] {
            let command = try ChildProcess(BuiltProducts.burg, arguments + ["--data-dir", data.string])
            #expect(try command.wait() == 0, "burg \(arguments.joined(separator: " ")): \(command.standardError)")
        }
        let health = try ChildProcess.burg("db", "health", "--json", "--data-dir", data.string)
        #expect(try health.wait() == 0)
        let json = try JSONSerialization.jsonObject(with: Data(health.lines.joined(separator: "\n").utf8)) as? [String: Any]
        #expect(json?["verdict"] as? String == "healthy")
        let info = try ChildProcess.burg("db", "info", "--data-dir", data.string)
        #expect(try info.wait() == 0)
        #expect(info.lines.contains { $0.contains("running (pid \(server.pid)") })

        // The copy written by vacuum --into is a complete database.
        let copy = try DatabaseQueue(path: dir.path("copy.db").string)
        #expect(try copy.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") } == ["ok"])
        #expect(try copy.read { try $0.tableExists("_burg_meta") })

        server.signal(SIGTERM)
        #expect(try server.wait() == 0)
    }

    @Test func dbCommandsOnADirectoryWithoutADatabaseSayWhatToDoAndCreateNothing() throws {
        let dir = try TemporaryDirectory()
        let command = try ChildProcess.burg("db", "health", "--data-dir", dir.path("nothing").string)
        #expect(try command.wait() == ExitStatus.noInput)
        #expect(command.standardError.contains("no database at"))
        #expect(command.standardError.contains("burg serve --data-dir"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("nothing").string))
    }

    @Test func serveHelpShowsTheStoreOptions() throws {
        let help = try ChildProcess.burg("serve", "--help")
        #expect(try help.wait() == 0)
        let text = help.lines.joined(separator: "\n")
        for flag in ["--synchronous", "--busy-timeout", "--retry-deadline", "--cache-size", "--mmap-size",
                     "--wal-size-limit", "--max-readers", "--slow-read", "--checkpoint-interval"] {
            #expect(text.contains(flag), "\(flag) missing from burg serve --help")
        }
    }
}
