import BurgRecords
import BurgTestSupport
import Foundation
import Testing

/// Every answer carries the browser-hardening headers PocketBase sends; a stored file may be framed.
@Suite struct SecurityHeadersTests {
    @Test func answersAndErrorsCarryPocketBasesHeadersAndFilesMayBeFramed() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let docs: JSONValue = .object([
                "name": "docs", "listRule": "", "viewRule": "", "createRule": "",
                "fields": .array([.object(["name": "scan", "type": "file", "maxSelect": 1])]),
            ])
            #expect(try await server.call("POST", "/api/collections", docs, token: admin).status == 200)
            for path in ["/api/health", "/api/collections/nope/records"] {
                let reply = try await server.raw("GET", path)
                #expect(reply.headers["x-content-type-options"] == "nosniff", "\(path)")
                #expect(reply.headers["x-frame-options"] == "SAMEORIGIN", "\(path)")
                #expect(reply.headers["cross-origin-opener-policy"] == "same-origin", "\(path)")
                #expect(reply.headers["x-xss-protection"] == "1; mode=block", "\(path)")
            }
            var body = MultipartBody()
            body.add("scan", filename: "scan.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 64), type: "image/png")
            let created = try await server.raw("POST", "/api/collections/docs/records", body: body.closed, contentType: body.contentType)
            let record = try JSONValue.parse(String(decoding: created.body, as: UTF8.self))
            let id = try #require(record.object?["id"]?.text)
            let name = try #require(record.object?["scan"]?.text)
            let file = try await server.raw("GET", "/api/files/docs/\(id)/\(name)")
            #expect(file.status == 200)
            #expect(file.headers["x-frame-options"] == nil, "a stored file may be shown in a frame")
            #expect(file.headers["x-content-type-options"] == "nosniff" && file.headers["cross-origin-opener-policy"] == "same-origin")
            #expect(file.headers["content-security-policy"]?.contains("sandbox") == true)
        }
    }
}
