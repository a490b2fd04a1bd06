import BurgCore
import BurgRecords
import BurgServer
import BurgTestSupport
import Foundation
import Testing

/// `POST /api/batch` as PocketBase 0.40 answers it (its captured exchanges): creates, updates, deletes
/// and upserts in one transaction, each under its collection's rules; one failing item rolls back all
/// and is reported at `data.requests.<index>` with its own answer; limits and refusals in words.
@Suite struct BatchAPITests {
    static func batch(_ server: some TestServer, _ requests: [JSONValue], token: String? = nil) async throws -> Reply {
        try await server.call("POST", "/api/batch", .object(["requests": .array(requests)]), token: token)
    }

    static func setUp(_ server: some TestServer) async throws -> String {
        let admin = try await server.superuserToken()
        for (name, rule) in [("tags", JSONValue.string("")), ("secrets", .null)] {
            let created = try await server.call("POST", "/api/collections", .object([
                "name": .string(name), "listRule": rule, "viewRule": rule, "createRule": rule, "updateRule": rule, "deleteRule": rule,
                "fields": .array([.object(["name": "name", "type": "text", "required": .bool(name == "tags")])]),
            ]), token: admin)
            #expect(created.status == 200, "\(created.json)")
        }
        return admin
    }

    static func names(_ server: some TestServer) async throws -> [String] {
        let listed = try await server.call("GET", "/api/collections/tags/records?sort=name&perPage=100")
        return (listed["items"]?.items ?? []).compactMap { $0.object?["name"]?.text }
    }

    @Test func createsUpdatesDeletesAndUpsertsCommitTogether() async throws {
        try await InProcessServer.run { server in
            _ = try await Self.setUp(server)
            let toUpdate = try await server.call("POST", "/api/collections/tags/records", .object(["name": "b-update"]))
            let toDelete = try await server.call("POST", "/api/collections/tags/records", .object(["name": "b-delete"]))
            let updateID = toUpdate["id"]?.text ?? "", deleteID = toDelete["id"]?.text ?? ""
            let reply = try await Self.batch(server, [
                .object(["method": "POST", "url": "/api/collections/tags/records", "body": .object(["name": "b-created"])]),
                .object(["method": "PATCH", "url": .string("/api/collections/tags/records/\(updateID)"), "body": .object(["name": "b-updated"])]),
                .object(["method": "DELETE", "url": .string("/api/collections/tags/records/\(deleteID)")]),
                .object(["method": "PUT", "url": "/api/collections/tags/records", "body": .object(["id": "batchupsert0001", "name": "b-upsert-new"])]),
                .object(["method": "PUT", "url": "/api/collections/tags/records", "body": .object(["id": .string(updateID), "name": "b-upsert-existing"])]),
                .object(["method": "POST", "url": "/api/collections/tags/records?fields=id,name", "body": .object(["name": "b-with-query"])]),
            ])
            #expect(reply.status == 200, "\(reply.json)")
            let answers = reply.json.items ?? []
            #expect(answers.map { $0.object?["status"] } == [200, 200, 204, 200, 200, 200])
            #expect(answers[2].object?["body"] == .null)
            #expect(answers[1].object?["body"]?.object?["name"] == "b-updated" && answers[1].object?["body"]?.object?["id"]?.text == updateID)
            #expect(answers[3].object?["body"]?.object?["id"] == "batchupsert0001")
            #expect(answers[4].object?["body"]?.object?["name"] == "b-upsert-existing")
            #expect(Set(answers[5].object?["body"]?.object?.keys.map { $0 } ?? []) == ["id", "name"], "the item's own ?fields=")
            #expect(try await Self.names(server) == ["b-created", "b-upsert-existing", "b-upsert-new", "b-with-query"])
        }
    }

    @Test func oneFailingItemRollsBackAllAndIsReportedAtItsIndex() async throws {
        try await InProcessServer.run { server in
            let admin = try await Self.setUp(server)
            let cases: [(JSONValue, Int, String)] = [
                (.object(["method": "POST", "url": "/api/collections/tags/records", "body": .object(["name": ""])]), 400, "Failed to validate"),
                (.object(["method": "PATCH", "url": "/api/collections/tags/records/zzzzzzzzzzzzzzz", "body": .object(["name": "x"])]), 404, ""),
                (.object(["method": "GET", "url": "/api/health"]), 400, "Something went wrong"),
                (.object(["method": "GET", "url": "/api/collections/tags/records"]), 400, "Something went wrong"),
                (.object(["method": "POST", "url": "/api/collections/secrets/records", "body": .object(["name": "x"])]), 403, ""),
                (.object(["method": "POST", "url": "/api/collections/users/records", "body": .object(["email": "a@b.org"])]), 400, "auth collections"),
            ]
            for (bad, status, words) in cases {
                let reply = try await Self.batch(server, [
                    .object(["method": "POST", "url": "/api/collections/tags/records", "body": .object(["name": "b-rollback"])]), bad,
                ])
                let item = reply["data"]?.object?["requests"]?.object?["1"]?.object
                #expect(reply.status == 400 && reply["message"] == "Batch transaction failed." && item?["code"] == "batch_request_failed", "\(reply.json)")
                let response = item?["response"]?.object
                #expect(response?["status"] == .number(Double(status)), "\(bad): \(reply.json)")
                #expect(words.isEmpty || (response?["message"]?.text ?? "").contains(words), "\(bad): \(reply.json)")
                if status == 400, words == "Failed to validate" {
                    #expect(response?["data"]?.object?["name"]?.object?["code"] == "validation_required")
                }
            }
            #expect(try await Self.names(server).isEmpty, "no item of a failed batch was kept")
            // The superuser may write where the guest may not.
            let allowed = try await Self.batch(server, [.object(["method": "POST", "url": "/api/collections/secrets/records", "body": .object(["name": "batch"])])], token: admin)
            #expect(allowed.status == 200 && allowed.json.items?.first?.object?["status"] == 200, "\(allowed.json)")
        }
    }

    @Test func limitsAndMalformedBatchesAreRefusedInWords() async throws {
        var configuration = ServerConfiguration()
        configuration.batchMaxRequests = 3
        try await InProcessServer.run(configuration: configuration) { server in
            _ = try await Self.setUp(server)
            let item: JSONValue = .object(["method": "POST", "url": "/api/collections/tags/records", "body": .object(["name": "n"])])
            let tooMany = try await Self.batch(server, Array(repeating: item, count: 4))
            #expect(tooMany.status == 400 && tooMany["data"]?.object?["requests"]?.object?["code"] == "validation_length_too_long", "\(tooMany.json)")
            let empty = try await Self.batch(server, [])
            #expect(empty.status == 400 && empty["data"]?.object?["requests"]?.object?["code"] == "validation_required")
            let none = try await server.call("POST", "/api/batch", .object([:]))
            #expect(none.status == 400 && none["data"]?.object?["requests"]?.object?["code"] == "validation_required")
            let notAList = try await server.call("POST", "/api/batch", .object(["requests": "everything"]))
            #expect(notAList.status == 400)
            let files = try await server.raw("POST", "/api/batch", body: Data("--x\r\n\r\n--x--\r\n".utf8), contentType: "multipart/form-data; boundary=x")
            #expect(files.status == 400)
            #expect(try await Self.names(server).isEmpty)
        }
        configuration.batchMaxRequests = 0
        try await InProcessServer.run(configuration: configuration) { server in
            let off = try await Self.batch(server, [.object(["method": "POST", "url": "/api/collections/users/records", "body": .object([:])])])
            #expect(off.status == 403 && off["message"] == "Batch requests are not allowed.", "\(off.json)")
        }
    }
}
