import BurgCore
import BurgRecords
import BurgTestSupport
import Foundation
import Testing

/// Collection names as PocketBase 0.40 accepts and refuses them (its captured answers), through the
/// collections API, with PocketBase's field errors at `name`; and a collection whose name is an SQL
/// keyword or starts with a digit works for records, filters and sorts.
@Suite struct CollectionNamesTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        /// nil: accepted; else the `data.name.code` of the 400.
        var refusal: String?
        var description: String { "\(name.prefix(20))\(name.count > 20 ? "…(\(name.count))" : "") → \(refusal ?? "200")" }
    }

    static let cases: [Case] = [
        Case(name: "1abc", refusal: nil),
        Case(name: "select", refusal: nil),
        Case(name: "order", refusal: nil),
        Case(name: "table", refusal: nil),
        Case(name: "UPPER", refusal: nil),
        Case(name: "pb_x", refusal: nil),
        Case(name: String(repeating: "a", count: 255), refusal: nil),
        Case(name: "with space", refusal: "validation_match_invalid"),
        Case(name: "with-dash", refusal: "validation_match_invalid"),
        Case(name: "ünïcode", refusal: "validation_match_invalid"),
        Case(name: String(repeating: "b", count: 256), refusal: "validation_match_invalid"),
        Case(name: "", refusal: "validation_required"),
        Case(name: "USERS", refusal: "validation_collection_name_exists"),
        Case(name: "users", refusal: "validation_collection_name_exists"),
        // Differences on purpose (docs/COMPATIBILITY.md): `_` and `sqlite_` first are Burg's and SQLite's.
        Case(name: "_abc", refusal: "validation_match_invalid"),
        Case(name: "sqlite_x", refusal: "validation_match_invalid"),
    ]

    @Test func namesAreAcceptedAndRefusedAsPocketBaseDoes() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            var outcomes: [String] = []
            for item in Self.cases {
                let reply = try await server.call("POST", "/api/collections", .object([
                    "name": .string(item.name), "fields": .array([.object(["name": "title", "type": "text"])]),
                ]), token: admin)
                var outcome = "\(reply.status)"
                if reply.status == 400, case .object(let data)? = reply["data"], case .object(let name)? = data["name"], case .string(let code)? = name["code"] {
                    outcome = code
                }
                let expected = item.refusal ?? "200"
                if outcome != expected { outcomes.append("\(item): got \(outcome) \(reply.json)") }
            }
            #expect(outcomes.isEmpty, "\(outcomes)")
            // Refused names created nothing.
            let listed = try await server.call("GET", "/api/collections?perPage=500", token: admin)
            let names = Set((listed["items"]?.items ?? []).compactMap { $0.object?["name"]?.text })
            #expect(names.isSuperset(of: ["1abc", "select", "UPPER", "pb_x"]) && !names.contains("with space") && !names.contains("_abc"), "\(names)")
        }
    }

    @Test func aKeywordOrDigitFirstNameWorksForRecordsFiltersAndSorts() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            for name in ["order", "2024_orders"] {
                let created = try await server.call("POST", "/api/collections", .object([
                    "name": .string(name), "listRule": "", "viewRule": "",
                    "fields": .array([.object(["name": "title", "type": "text", "searchable": true]), .object(["name": "n", "type": "number"])]),
                ]), token: admin)
                #expect(created.status == 200, "\(created.json)")
                for index in 0..<3 {
                    let record = try await server.call("POST", "/api/collections/\(name)/records", .object(["title": .string("item \(index)"), "n": .number(Double(index))]), token: admin)
                    #expect(record.status == 200, "\(record.json)")
                }
                let page = try await server.call("GET", "/api/collections/\(name)/records?filter=n%3E%3D1%20%26%26%20title~%27item%27&sort=-n")
                #expect(page.status == 200 && page["totalItems"] == .number(2), "\(page.json)")
            }
        }
    }

    @Test func aSystemCollectionCannotBeRenamedAndSuperusersStillSignIn() async throws {
        try await InProcessServer.run { server in
            let admin = try await server.superuserToken()
            let reply = try await server.call("PATCH", "/api/collections/_superusers", .object(["name": "admins"]), token: admin)
            #expect(reply.status == 400, "\(reply.json)")
            #expect(reply["message"] == .string("Failed to update collection."), "\(reply.json)")
            if case .object(let data)? = reply["data"], case .object(let name)? = data["name"] {
                #expect(name["code"] == .string("validation_collection_system_name_change"), "\(reply.json)")
            } else {
                Issue.record("no data.name in \(reply.json)")
            }
            let kept = try await server.call("GET", "/api/collections/_superusers", token: admin)
            #expect(kept.status == 200 && kept["name"] == .string("_superusers"), "\(kept.json)")
            // Naming the same name again is no rename.
            let same = try await server.call("PATCH", "/api/collections/_superusers", .object(["name": "_superusers"]), token: admin)
            #expect(same.status == 200, "\(same.json)")
            _ = try await server.superuserToken()
        }
    }
}
