import BurgCore
import BurgRecords
import BurgServer
import BurgTestSupport
import Foundation
import Synchronization
import SystemPackage
import Testing

/// PocketBase's `/api/backups` over Burg's verified archives: the answers captured from PocketBase
/// 0.40 (reference backups.json) for list, create, download, upload, delete and restore, and what bad
/// input gets — each refusal changing nothing in `<data dir>/backups`.
@Suite struct BackupsAPITests {
    static let refused: JSONValue = ["data": [:], "message": "Insufficient permissions to access the resource.", "status": 403]

    func keys(_ reply: Reply) -> [String] {
        guard case .array(let items) = reply.json else { return [] }
        return items.compactMap { item in if case .object(let object) = item, case .string(let key)? = object["key"] { key } else { nil } }
    }

    func fileToken(_ server: some TestServer, _ token: String) async throws -> String {
        let reply = try await server.call("POST", "/api/files/token", token: token)
        return try #require(reply["token"]?.text)
    }

    @Test func listCreateDownloadAndDeleteAsPocketBaseAnswers() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            #expect(try await server.call("GET", "/api/backups", token: admin).json == [])
            let guest = try await server.call("GET", "/api/backups")
            #expect(guest.status == 401 && guest["message"] == "The request requires valid record authorization token.")
            let user = try await server.signUp("plain@example.org")
            #expect(try await server.call("GET", "/api/backups", token: user.token).status == 403)
            #expect(try await server.call("POST", "/api/backups", ["name": "mine.zip"], token: user.token).status == 403)

            // Named, then auto-named; a record in between so the two differ.
            #expect(try await server.call("POST", "/api/backups", ["name": "capture_one.zip"], token: admin).status == 204)
            #expect(try await server.call("POST", "/api/backups", [:], token: admin).status == 204)
            let listed = try await server.call("GET", "/api/backups", token: admin)
            let names = keys(listed)
            #expect(names.count == 2 && names.first == "burg-" + (names.first?.dropFirst(5) ?? "") && names.contains("capture_one.zip"), "\(listed.json)")
            guard case .array(let items) = listed.json, case .object(let first)? = items.first else { throw TestFailure("no items: \(listed.json)") }
            #expect(Set(first.keys) == ["key", "modified", "size"])
            #expect(first["size"].flatMap { if case .number(let n) = $0 { n } else { nil } }.map { $0 > 1000 } == true)
            #expect(first["modified"]?.text?.hasSuffix("Z") == true)

            // Refusals: PocketBase's codes, nothing added.
            let exists = try await server.call("POST", "/api/backups", ["name": "capture_one.zip"], token: admin)
            #expect(exists.status == 400 && SettingsAPITests.at(exists.json, "data.name.code") == "validation_backup_name_exists", "\(exists.json)")
            for bad in ["bad name", "../escape.zip", "UPPER.zip", "no-suffix", ".hidden.zip"] {
                let reply = try await server.call("POST", "/api/backups", ["name": .string(bad)], token: admin)
                #expect(reply.status == 400 && SettingsAPITests.at(reply.json, "data.name.code") == "validation_match_invalid", "\(bad): \(reply.json)")
            }
            #expect(keys(try await server.call("GET", "/api/backups", token: admin)).count == 2)

            // Download: a superuser's file token in ?token=, nothing else opens it.
            let token = try await fileToken(server, admin)
            let download = try await server.raw("GET", "/api/backups/capture_one.zip?token=\(token)")
            #expect(download.status == 200)
            #expect(download.headers["content-disposition"] == "attachment; filename=\"capture_one.zip\"")
            #expect(download.headers["content-type"] == "application/zip")
            #expect(download.headers["x-frame-options"] == "SAMEORIGIN" && download.headers["last-modified"]?.hasSuffix(" GMT") == true, "\(download.headers)")
            let onDisk = try #require(try AtomicFile.read(FilePath(server.dataDir).appending("backups/capture_one.zip")))
            #expect(Array(download.body) == onDisk)
            #expect(try await server.call("GET", "/api/backups/capture_one.zip").json == Self.refused)
            #expect(try await server.call("GET", "/api/backups/capture_one.zip", token: admin).json == Self.refused)
            let userFileToken = try await fileToken(server, user.token)
            #expect(try await server.call("GET", "/api/backups/capture_one.zip?token=\(userFileToken)").json == Self.refused)
            #expect(try await server.call("GET", "/api/backups/nosuch.zip?token=\(token)").status == 404)
            #expect(try await server.call("GET", "/api/backups/..%2Fdata.db?token=\(token)").status == 404)

            // Delete.
            let auto = try #require(names.first { $0.hasPrefix("burg-") })
            #expect(try await server.call("DELETE", "/api/backups/\(auto)", token: admin).status == 204)
            let again = try await server.call("DELETE", "/api/backups/\(auto)", token: admin)
            #expect(again.status == 400 && again["message"]?.text?.hasPrefix("Invalid or already deleted backup file") == true, "\(again.json)")
            #expect(try await server.call("DELETE", "/api/backups/..%2Fdata.db", token: admin).status == 400)
            #expect(FileManager.default.fileExists(atPath: FilePath(server.dataDir).appending("data.db").string))
            #expect(keys(try await server.call("GET", "/api/backups", token: admin)) == ["capture_one.zip"])
        }
    }

    @Test func anUploadIsStoredUnderItsNameOnlyWhenItIsAZipAndTheNameIsFree() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            #expect(try await server.call("POST", "/api/backups", ["name": "original.zip"], token: admin).status == 204)
            let bytes = try #require(try AtomicFile.read(FilePath(server.dataDir).appending("backups/original.zip")))
            func upload(_ name: String, _ content: [UInt8]) async throws -> Reply {
                var form = MultipartBody()
                form.add("file", filename: name, content, type: "application/zip")
                let (status, body, headers) = try await server.raw("POST", "/api/backups/upload", body: form.closed, contentType: form.contentType, token: admin)
                return Reply(status: status, json: body.isEmpty ? .null : try JSONValue.parse(String(decoding: body, as: UTF8.self)), headers: headers)
            }
            #expect(try await upload("uploaded_copy.zip", bytes).status == 204)
            let copy = try AtomicFile.read(FilePath(server.dataDir).appending("backups/uploaded_copy.zip"))
            #expect(copy == bytes)
            let notZip = try await upload("notazip.zip", Array("not a zip".utf8))
            #expect(notZip.status == 400 && SettingsAPITests.at(notZip.json, "data.file.code") == "validation_invalid_mime_type", "\(notZip.json)")
            let taken = try await upload("uploaded_copy.zip", Array("PK\u{3}\u{4} other bytes".utf8))
            #expect(taken.status == 400 && SettingsAPITests.at(taken.json, "data.file.code") == "validation_backup_name_exists", "\(taken.json)")
            #expect(try AtomicFile.read(FilePath(server.dataDir).appending("backups/uploaded_copy.zip")) == bytes, "the refused upload replaced the archive")
            let traversal = try await upload("../../data.db.zip", bytes)
            #expect(traversal.status == 400, "\(traversal.json)")
            let listed = try await server.call("GET", "/api/backups", token: admin)
            #expect(keys(listed) == ["original.zip", "uploaded_copy.zip"], "\(listed.json)")
            // No spooled copy stays behind.
            let spool = (try? FileManager.default.contentsOfDirectory(atPath: FilePath(server.dataDir).appending("uploads-tmp").string)) ?? []
            #expect(spool.isEmpty, "\(spool)")
        }
    }

    @Test func aRestoreIsHandedToTheRestorerOnlyForAnArchiveThatExists() async throws {
        let asked = Mutex<[String]>([])
        var configuration = ServerConfiguration()
        configuration.restoreBackup = { path in asked.withLock { $0.append(path.string) } }
        try await InProcessServer.run(configuration: configuration) { server in
            let admin = try await server.superuserToken()
            #expect(try await server.call("POST", "/api/backups", ["name": "capture_one.zip"], token: admin).status == 204)
            let unknown = try await server.call("POST", "/api/backups/nosuch.zip/restore", token: admin)
            #expect(unknown.json == ["data": [:], "message": "Missing or invalid backup file.", "status": 400])
            #expect(try await server.call("POST", "/api/backups/capture_one.zip/restore").status == 401)
            #expect(try await server.call("POST", "/api/backups/capture_one.zip/restore", token: admin).status == 204)
            #expect(asked.withLock { $0 } == [FilePath(server.dataDir).appending("backups/capture_one.zip").string])
        }
        // Without a restorer (not `burg serve`): a 400 that says what to run instead.
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            #expect(try await server.call("POST", "/api/backups", ["name": "capture_one.zip"], token: admin).status == 204)
            let reply = try await server.call("POST", "/api/backups/capture_one.zip/restore", token: admin)
            #expect(reply.status == 400 && reply["message"]?.text?.contains("burg backup restore") == true, "\(reply.json)")
        }
    }

    /// The whole way, as PocketBase does it: a real `burg serve` restores a backup through the API,
    /// stops, and serves again on the restored data with the same command line.
    @Test func aRestoreThroughTheAPIBringsTheServerBackOnTheBackupsState() async throws {
        let server = try await LiveServer()
        let admin = try await server.superuserToken()
        let created = try await server.call("POST", "/api/collections", [
            "name": "notes", "listRule": "", "viewRule": "", "createRule": "", "fields": [["name": "title", "type": "text"]],
        ], token: admin)
        #expect(created.status == 200, "\(created.json)")
        #expect(try await server.call("POST", "/api/collections/notes/records", ["title": "kept"]).status == 200)
        #expect(try await server.call("POST", "/api/backups", ["name": "before.zip"], token: admin).status == 204)
        #expect(try await server.call("POST", "/api/collections/notes/records", ["title": "after the backup"]).status == 200)
        #expect(try await server.call("POST", "/api/backups/before.zip/restore", token: admin).status == 204)

        // Serving again (a new process) on the backup's state: one record, the archive still listed.
        var titles: [String] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            guard let reply = try? await server.call("GET", "/api/collections/notes/records"), reply.status == 200,
                  case .array(let items)? = reply["items"] else { continue }
            titles = items.compactMap { if case .object(let o) = $0 { o["title"]?.text } else { nil } }
            if titles == ["kept"] { break }
        }
        #expect(titles == ["kept"])
        let token = try await server.superuserToken()
        #expect(keys(try await server.call("GET", "/api/backups", token: token)).contains("before.zip"))
        // The server now running is not this test's child: stopped through the data directory's lock.
        let holder = try #require(InstanceLock.currentHolder(dataDir: FilePath(server.dataDir)))
        #expect(holder.pid != server.process.pid)
        kill(holder.pid, SIGTERM)
        let stopped = ContinuousClock.now + .seconds(30)
        while InstanceLock.currentHolder(dataDir: FilePath(server.dataDir)) != nil, ContinuousClock.now < stopped {
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
