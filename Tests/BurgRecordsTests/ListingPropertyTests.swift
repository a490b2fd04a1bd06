import BurgCore
import BurgRecords
import Foundation
import SystemPackage
import Testing

/// Random data, random filters, sorts and page sizes: every page `RecordStore.list` returns, its exact
/// totals, and the pages reached by following keyset cursors equal a brute-force evaluation in Swift.
/// `name` is searchable, so `~` with three or more characters goes through the trigram index.
@Suite struct ListingPropertyTests {
    typealias Row = FilterPropertyTests.Row

    @Test func pagesTotalsAndCursorsEqualABruteForceEvaluation() throws {
        var rng = FilterPropertyTests.SplitMix64(state: 20_261_124)
        let fixture = try RecordsFixture()
        var name = Field(name: "name", type: .text)
        name.searchable = true
        try fixture.collections.create(CollectionModel(
            name: "people", fields: [name, Field(name: "age", type: .number), Field(name: "active", type: .bool)]))
        // Stored columns are never NULL: an unset text is "", a number 0, a bool false.
        let rows = (0..<240).map { index in
            Row(id: String(format: "r%014d", index),
                name: String((0..<Int.random(in: 0...6, using: &rng)).map { _ in "abcAB".randomElement(using: &rng)! }),
                age: Int.random(in: 0...9, using: &rng), active: Bool.random(using: &rng))
        }
        let file = fixture.dir.path("people.ndjson")
        let lines = rows.map { row in
            JSONValue.object(["id": .string(row.id), "name": .string(row.name!), "age": .number(Double(row.age!)), "active": .bool(row.active!)]).jsonText
        }
        try AtomicFile.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: file)
        let report = try RecordImporter(store: fixture.store).importFile(file, into: "people")
        #expect(report.imported == rows.count)

        let sorts: [(String, (Row, Row) -> Bool?)] = [
            ("", { _, _ in nil }),
            ("name", { $0.name! == $1.name! ? nil : $0.name! < $1.name! }),
            ("-age", { $0.age! == $1.age! ? nil : $0.age! > $1.age! }),
            ("active,-name", { $0.active! != $1.active! ? !$0.active! : ($0.name! == $1.name! ? nil : $0.name! > $1.name!) }),
            ("-created", { _, _ in nil }),  // one import batch: equal timestamps, so insertion order decides
        ]
        let order = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1.id, $0) })
        for round in 0..<120 {
            let node = FilterPropertyTests.randomNode(depth: 2, maxTextLength: 4, &rng)
            let (sort, before) = sorts[round % sorts.count]
            let perPage = [1, 7, 30, 500][Int.random(in: 0..<4, using: &rng)]
            let expected = rows.filter { node.evaluate($0) == true }
                .sorted { a, b in before(a, b) ?? (order[a.id]! < order[b.id]!) }.map(\.id)
            let totalPages = (expected.count + perPage - 1) / perPage
            var query = ListQuery()
            query.filter = node.text
            query.sort = sort
            query.perPage = perPage

            // Every page by number, and one past the end.
            for page in 1...max(1, totalPages) + 1 {
                query.page = page
                let result = try fixture.records.list("people", query)
                let slice = expected.dropFirst((page - 1) * perPage).prefix(perPage)
                #expect(result.items.map(\.id) == Array(slice), "page \(page) of \(node.text) sorted \(sort)")
                #expect(result.totalItems == expected.count && result.totalPages == totalPages, "totals of \(node.text)")
                if page > 6 { break }  // deep pages are the cursor walk's job
            }
            // Following cursors from page 1 yields every record once, in order.
            query.page = 1
            var walked: [String] = []
            var cursor: String?
            repeat {
                query.cursor = cursor
                let result = try fixture.records.list("people", query)
                walked += result.items.map(\.id)
                cursor = result.nextCursor
                #expect(walked.count <= expected.count, "cursor walk of \(node.text) does not end")
            } while cursor != nil && walked.count <= expected.count
            #expect(walked == expected, "cursor walk of \(node.text) sorted \(sort)")
        }
    }
}
