import BurgCore
import BurgRecords
import Foundation
import Testing

/// Multipart create/update with files, `/api/files` with protected-file tokens, and hostile uploads
/// and paths, in process.
@Suite struct FilesAPITests {
    static let documents = JSONValue.ownedCollection("documents", fields: [
        .object(["name": "title", "type": "text"]),
        .object(["name": "pages", "type": "number"]),
        .object(["name": "attachments", "type": "file", "maxSelect": 3, "maxSize": 100_000]),
        .object(["name": "scan", "type": "file", "protected": true, "maxSize": 100_000]),
    ])
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }

    func names(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let name)?: name.isEmpty ? [] : [name]
        case .array(let items)?: items.compactMap { if case .string(let name) = $0 { name } else { nil } }
        default: []
        }
    }

    /// Every stored file under the data directory's storage (to see that refusals leave nothing).
    func storedFiles(_ server: InProcessServer) -> [String] {
        let root = server.dataDir + "/storage"
        return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + $0, isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted()
    }

    func spooled(_ server: InProcessServer) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/uploads-tmp")) ?? []
    }

    /// Found by the multipart fuzz harness: MultipartKit traps on a header name byte ≥ 0x80, which would
    /// have ended the server on one guest's request.
    @Test func aMultipartHeaderNameWithANonASCIIByteIsRefusedWith400AndTheServerStaysUp() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            #expect(try await server.call("POST", "/api/collections", Self.documents, token: admin).status == 200)
            let ann = try await server.signUp("ann@example.org")
            let boundary = "fuzzfound"
            var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"owner\"\r\n\r\n\(ann.id)\r\n".utf8)
            body += Data("--\(boundary)\r\nX-\u{e9}: 1\r\n\r\nvalue\r\n--\(boundary)--\r\n".utf8)
            let reply = try await server.raw("POST", "/api/collections/documents/records", body: body,
                contentType: "multipart/form-data; boundary=\(boundary)", token: ann.token)
            #expect(reply.status == 400, "\(String(decoding: reply.body, as: UTF8.self))")
            #expect(String(decoding: reply.body, as: UTF8.self).contains("header name is not ASCII"))
            // Still serving; non-ASCII in a header *value* (a file name) is fine.
            var form = MultipartBody()
            form.add("owner", ann.id)
            form.add("attachments", filename: "r\u{e9}sum\u{e9}.txt", Array("ok".utf8), type: "text/plain")
            let created = try await server.raw("POST", "/api/collections/documents/records", body: form.closed, contentType: form.contentType, token: ann.token)
            #expect(created.status == 200, "\(String(decoding: created.body, as: UTF8.self))")
            #expect(spooled(server).isEmpty)
        }
    }

    @Test func multipartCreateUpdateAndProtectedDownloads() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            #expect(try await server.call("POST", "/api/collections", Self.documents, token: admin).status == 200)
            let ann = try await server.signUp("ann@example.org")
            let bob = try await server.signUp("bob@example.org")

            // Create: text values read by type, two attachments and a protected scan.
            var form = MultipartBody()
            form.add("owner", ann.id)
            form.add("title", "Knee X-ray")
            form.add("pages", "2")
            form.add("attachments", filename: "Knee X-ray (left).PNG", Self.png, type: "image/png")
            form.add("attachments", filename: "notes.txt", Array("first visit\n".utf8), type: "text/plain")
            form.add("scan", filename: "scan.png", Self.png)
            let created = try await server.raw("POST", "/api/collections/documents/records", body: form.closed, contentType: form.contentType, token: ann.token)
            #expect(created.status == 200, "\(String(decoding: created.body, as: UTF8.self))")
            let record = try JSONValue.parse(String(decoding: created.body, as: UTF8.self))
            guard case .object(let fields) = record, case .string(let id)? = fields["id"] else { return }
            #expect(fields["pages"] == .number(2) && fields["title"] == "Knee X-ray")
            let attachments = names(fields["attachments"])
            #expect(attachments.count == 2)
            #expect(attachments.first?.wholeMatch(of: /knee_x-ray_left_[a-z0-9]{10}\.PNG/) != nil, "\(attachments)")
            guard let scan = names(fields["scan"]).first, let picture = attachments.first else { return }

            // An unprotected file: anyone with the URL, bytes intact, typed by content, sandboxed.
            let public1 = try await server.raw("GET", "/api/files/documents/\(id)/\(picture)")
            #expect(public1.status == 200 && [UInt8](public1.body) == Self.png)
            #expect(public1.headers["content-type"] == "image/png")
            #expect(public1.headers["x-content-type-options"] == "nosniff")
            #expect(public1.headers["content-security-policy"]?.contains("sandbox") == true)
            // By collection id as well (the SDKs build URLs with it).
            if case .string(let collectionId)? = fields["collectionId"] {
                #expect(try await server.raw("GET", "/api/files/\(collectionId)/\(id)/\(picture)").status == 200)
            }

            // A protected file: no token → 403; an auth token is not a file token → 401; Bob's file token → 404
            // (the view rule hides it); Ann's and a superuser's → the bytes.
            #expect(try await server.raw("GET", "/api/files/documents/\(id)/\(scan)").status == 403)
            #expect(try await server.raw("GET", "/api/files/documents/\(id)/\(scan)?token=\(ann.token)").status == 401)
            #expect(try await server.call("POST", "/api/files/token").status == 401)
            let bobFileToken = try await server.call("POST", "/api/files/token", token: bob.token)["token"]
            let annFileToken = try await server.call("POST", "/api/files/token", token: ann.token)["token"]
            let adminFileToken = try await server.call("POST", "/api/files/token", token: admin)["token"]
            guard case .string(let bobFile)? = bobFileToken, case .string(let annFile)? = annFileToken, case .string(let adminFile)? = adminFileToken else {
                Issue.record("no file tokens"); return
            }
            #expect(try await server.raw("GET", "/api/files/documents/\(id)/\(scan)?token=\(bobFile)").status == 404)
            let annScan = try await server.raw("GET", "/api/files/documents/\(id)/\(scan)?token=\(annFile)")
            #expect(annScan.status == 200 && [UInt8](annScan.body) == Self.png)
            #expect(annScan.headers["cache-control"]?.contains("private") == true)
            #expect(try await server.raw("GET", "/api/files/documents/\(id)/\(scan)?token=\(adminFile)&download=1").headers["content-disposition"]?.hasPrefix("attachment") == true)
            // A file token does not work as an auth token.
            #expect(try await server.call("GET", "/api/collections/documents/records/\(id)", token: annFile).status == 401)

            // Update: `attachments+` adds, `attachments-` removes (and deletes the stored file), plain `attachments` replaces.
            var add = MultipartBody()
            add.add("attachments+", filename: "more.txt", Array("more".utf8))
            add.add("attachments-", attachments[1])
            let updated = try await server.raw("PATCH", "/api/collections/documents/records/\(id)", body: add.closed, contentType: add.contentType, token: ann.token)
            #expect(updated.status == 200, "\(String(decoding: updated.body, as: UTF8.self))")
            let afterAdd = names(try JSONValue.parse(String(decoding: updated.body, as: UTF8.self)).object?["attachments"])
            #expect(afterAdd.count == 2 && afterAdd.first == picture && afterAdd.contains(where: { $0.hasPrefix("more_") }))
            #expect(try await server.raw("GET", "/api/files/documents/\(id)/\(attachments[1])").status == 404)
            #expect(!storedFiles(server).contains { $0.hasSuffix(attachments[1]) })
            var replace = MultipartBody()
            replace.add("attachments", filename: "only.txt", Array("only".utf8))
            let replaced = try await server.raw("PATCH", "/api/collections/documents/records/\(id)", body: replace.closed, contentType: replace.contentType, token: ann.token)
            let afterReplace = names(try JSONValue.parse(String(decoding: replaced.body, as: UTF8.self)).object?["attachments"])
            #expect(afterReplace.count == 1 && afterReplace[0].hasPrefix("only_"), "\(afterReplace)")
            // Bob cannot change Ann's files; nothing of his upload is kept.
            let before = storedFiles(server)
            var bobs = MultipartBody()
            bobs.add("attachments+", filename: "bob.txt", Array("bob".utf8))
            #expect(try await server.raw("PATCH", "/api/collections/documents/records/\(id)", body: bobs.closed, contentType: bobs.contentType, token: bob.token).status == 404)
            #expect(storedFiles(server) == before && spooled(server).isEmpty)
            // Deleting the record deletes its files.
            #expect(try await server.call("DELETE", "/api/collections/documents/records/\(id)", token: ann.token).status == 204)
            #expect(storedFiles(server).isEmpty)
        }
    }

    @Test func hostileUploadsAndPathsAreRefusedAndChangeNothing() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            #expect(try await server.call("POST", "/api/collections", Self.documents, token: admin).status == 200)
            let ann = try await server.signUp("ann@example.org")
            func count() async throws -> JSONValue? { try await server.call("GET", "/api/collections/documents/records", token: admin)["totalItems"] }
            func post(_ body: Data, _ contentType: String) async throws -> (status: Int, json: JSONValue) {
                let reply = try await server.raw("POST", "/api/collections/documents/records", body: body, contentType: contentType, token: ann.token)
                return (reply.status, (try? JSONValue.parse(String(decoding: reply.body, as: UTF8.self))) ?? .null)
            }

            // Over the field's maxSize: 400 naming the field.
            var big = MultipartBody()
            big.add("owner", ann.id)
            big.add("attachments", filename: "big.bin", [UInt8](repeating: 7, count: 200_000))
            let tooBig = try await post(big.closed, big.contentType)
            #expect(tooBig.status == 400)
            #expect(tooBig.json.object?["data"]?.object?["attachments"]?.object?["code"] == "validation_file_size_limit", "\(tooBig.json)")
            // More files than maxSelect.
            var many = MultipartBody()
            many.add("owner", ann.id)
            for index in 0..<4 { many.add("attachments", filename: "f\(index).txt", Array("x".utf8)) }
            #expect(try await post(many.closed, many.contentType).status == 400)
            // A file for a field that is not a file field, and a truncated body.
            var wrong = MultipartBody()
            wrong.add("owner", ann.id)
            wrong.add("title", filename: "t.txt", Array("x".utf8))
            #expect(try await post(wrong.closed, wrong.contentType).status == 400)
            var cut = MultipartBody()
            cut.add("owner", ann.id)
            cut.add("attachments", filename: "cut.txt", Array("abc".utf8))
            #expect(try await post(cut.data.dropLast(3), cut.contentType).status == 400)
            // Not multipart at all, with a multipart content type: no boundary / garbage.
            #expect(try await post(Data("garbage".utf8), "multipart/form-data").status == 400)
            #expect(try await post(Data("garbage".utf8), "multipart/form-data; boundary=xyz").status == 400)
            // Stored names can only come from uploads.
            #expect(try await server.call("POST", "/api/collections/documents/records",
                .object(["owner": .string(ann.id), "attachments": .array(["../../data.db"])]), token: ann.token).status == 400)
            #expect(try await count() == .number(0))
            #expect(storedFiles(server).isEmpty && spooled(server).isEmpty)

            // A client's file name cannot steer where the file goes.
            var sneaky = MultipartBody()
            sneaky.add("owner", ann.id)
            sneaky.add("attachments", filename: "../../../etc/passwd", Array("root".utf8))
            sneaky.add("attachments", filename: "..\\..\\boot.ini", Array("x".utf8))
            let stored = try await post(sneaky.closed, sneaky.contentType)
            #expect(stored.status == 200, "\(stored.json)")
            guard case .string(let id)? = stored.json.object?["id"] else { return }
            for name in names(stored.json.object?["attachments"]) {
                #expect(name.wholeMatch(of: /[a-z0-9_\-]+(\.[a-z0-9]+)?/) != nil, "\(name)")
            }
            #expect(storedFiles(server).allSatisfy { $0.split(separator: "/").count == 3 })
            // Traversal and unknown names in file URLs: 404, never a file outside the record's own.
            for path in ["..%2F..%2Fdata.db", "%2e%2e%2f%2e%2e%2fauth.secret", "..", ".%2e", "data.db", "passwd_aaaaaaaaaa",
                         "..%5C..%5Cauth.secret"] {
                let reply = try await server.raw("GET", "/api/files/documents/\(id)/\(path)")
                #expect(reply.status == 404 || reply.status == 400, "\(path): \(reply.status)")
                #expect(!String(decoding: reply.body, as: UTF8.self).contains("SQLite"))
            }
            #expect(try await server.raw("GET", "/api/files/documents/..%2F..%2F/x").status == 404)
            #expect(try await server.raw("GET", "/api/files/nope/\(id)/x.png").status == 404)
        }
    }
}
