@testable import BurgRecords
import BurgStore
import BurgTestSupport
import Synchronization
import Testing

/// `expand` reads each relation level with one query, under each target's view rule, in one snapshot.
@Suite struct RecordExpansionTests {
    /// Counts the statements the store runs (through ``StoreConfiguration/statementObserver``).
    final class StatementCount: Sendable {
        let statements = Mutex<[String]>([])
        func reset() { statements.withLock { $0 = [] } }
        var selects: [String] { statements.withLock { $0 }.filter { $0.uppercased().hasPrefix("SELECT") } }
    }

    /// posts → authors → teams → regions (3 relation levels below the listed records); `tags` is a
    /// multi-valued relation from posts. Regions whose `secret` is true are hidden by their view rule.
    struct Fixture {
        let dir: TemporaryDirectory
        let store: Store
        let records: RecordStore
        let count = StatementCount()

        init(posts: Int) throws {
            dir = try TemporaryDirectory()
            var configuration = StoreConfiguration(dataDirectory: dir.path)
            configuration.slowReadThreshold = nil
            let count = self.count
            configuration.statementObserver = { sql in count.statements.withLock { $0.append(sql) } }
            store = try Store(configuration, migrations: .store + CollectionRegistry.migrations)
            records = RecordStore(store: store)
            let collections = CollectionRegistry(store: store)
            func relation(_ name: String, _ target: String, maxSelect: Int? = nil) -> Field {
                var field = Field(name: name, type: .relation)
                field.collection = target
                field.maxSelect = maxSelect
                return field
            }
            let open = CollectionModel.Rules(list: "", view: "", create: "", update: "", delete: "")
            try collections.create(CollectionModel(name: "regions", fields: [Field(name: "name", type: .text), Field(name: "secret", type: .bool)],
                                              rules: .init(list: "", view: "secret = false")))
            try collections.create(CollectionModel(name: "teams", fields: [Field(name: "name", type: .text), relation("region", "regions")], rules: open))
            try collections.create(CollectionModel(name: "authors", fields: [Field(name: "name", type: .text), relation("team", "teams")], rules: open))
            try collections.create(CollectionModel(name: "tags", fields: [Field(name: "name", type: .text)], rules: open))
            try collections.create(CollectionModel(name: "posts", fields: [Field(name: "title", type: .text), relation("author", "authors"),
                                                                       relation("tags", "tags", maxSelect: 5)], rules: open))
            let regions = try (0..<4).map { try records.create("regions", ["name": .string("r\($0)"), "secret": .bool($0 == 3)]).id }
            let teams = try (0..<8).map { try records.create("teams", ["name": .string("t\($0)"), "region": .string(regions[$0 % 4])]).id }
            let authors = try (0..<20).map { try records.create("authors", ["name": .string("a\($0)"), "team": .string(teams[$0 % 8])]).id }
            let tags = try (0..<6).map { try records.create("tags", ["name": .string("g\($0)")]).id }
            for index in 0..<posts {
                _ = try records.create("posts", ["title": .string("p\(index)"), "author": .string(authors[index % 20]),
                                                 "tags": .array([.string(tags[index % 6]), .string(tags[(index + 1) % 6])])])
            }
        }

        func expandedPosts(_ paths: String, caller: RecordCaller = .guest) throws -> [ExpandedRecord] {
            var query = ListQuery()
            query.perPage = 500
            query.sort = "title"
            let listed = try records.list("posts", query)
            let posts = try CollectionRegistry(store: store).get("posts")
            count.reset()
            return try records.expand(listed.items, in: posts, paths: ExpandPaths(paths, collection: "posts"), for: caller)
        }
    }

    @Test func expandingFiftyRecordsThreeLevelsDeepIssuesOneQueryPerRelationAndLevel() throws {
        let fixture = try Fixture(posts: 50)
        let expanded = try fixture.expandedPosts("author.team.region,tags")
        let queries = fixture.count.selects
        // One query per relation and level (author, team, region, tags) plus the collection and
        // field reads of the targets: bounded, whatever the number of records.
        let relationQueries = queries.filter { $0.contains("json_each") }
        #expect(relationQueries.count == 4, "\(relationQueries)")
        #expect(queries.count <= 16, "\(queries.count) statements: \(queries)")

        #expect(expanded.count == 50)
        let first = try #require(expanded.first { $0.record.values["title"] == .string("p0") })
        let author = try #require(first.expand?["author"]?.first)
        #expect(author.record.values["name"] == .string("a0"))
        let team = try #require(author.expand?["team"]?.first)
        #expect(team.record.values["name"] == .string("t0"))
        #expect(team.expand?["region"]?.first?.record.values["name"] == .string("r0"))
        #expect(first.expand?["tags"]?.map { $0.record.values["name"] } == [.string("g0"), .string("g1")])

        // The same expand of 5 records costs the same number of queries: none is per record.
        let small = try Fixture(posts: 5)
        _ = try small.expandedPosts("author.team.region,tags")
        #expect(small.count.selects.count == queries.count)
    }

    @Test func aRelatedRecordTheCallerMayNotViewIsLeftOutNotAnError() throws {
        let fixture = try Fixture(posts: 50)
        let expanded = try fixture.expandedPosts("author.team.region")
        // Team t3 (and t7) lies in region r3, which is secret: its region is left out for a guest.
        let teams = expanded.compactMap { $0.expand?["author"]?.first?.expand?["team"]?.first }
        let hidden = teams.filter { $0.record.values["name"] == .string("t3") }
        #expect(!hidden.isEmpty)
        for team in hidden { #expect(team.expand?["region"]?.isEmpty == true) }
        let shown = teams.filter { $0.record.values["name"] == .string("t0") }
        #expect(shown.allSatisfy { $0.expand?["region"]?.count == 1 })

        // A superuser sees the secret region.
        let all = try fixture.expandedPosts("author.team.region", caller: RecordCaller(isSuperuser: true, context: FilterContext()))
        let superTeams = all.compactMap { $0.expand?["author"]?.first?.expand?["team"]?.first }
        #expect(superTeams.filter { $0.record.values["name"] == .string("t3") }.allSatisfy { $0.expand?["region"]?.count == 1 })
    }

    @Test func aTargetWhoseViewRuleIsSuperusersOnlyExpandsToNothing() throws {
        let fixture = try Fixture(posts: 3)
        var regions = try CollectionRegistry(store: fixture.store).get("regions")
        regions.rules.view = nil
        _ = try CollectionRegistry(store: fixture.store).update("regions", to: regions)
        let expanded = try fixture.expandedPosts("author.team.region")
        let teams = expanded.compactMap { $0.expand?["author"]?.first?.expand?["team"]?.first }
        #expect(teams.count == 3 && teams.allSatisfy { $0.expand?["region"]?.isEmpty == true })
    }

    @Test(arguments: ["title", "author.name", "nope"])
    func expandingAFieldThatIsNotARelationIsRefused(_ path: String) throws {
        let fixture = try Fixture(posts: 2)
        let error = #expect(throws: BurgRecords.RecordError.self) { try fixture.expandedPosts(path) }
        #expect(error?.code == .invalidQuery)
        #expect(error?.message.contains("not a relation field") == true)
    }

    @Test func aPathDeeperThanSixLevelsIsRefusedBeforeAnyQuery() {
        let error = #expect(throws: BurgRecords.RecordError.self) { try ExpandPaths("a.b.c.d.e.f.g", collection: "posts") }
        #expect(error?.message.contains("at most 6 levels") == true)
        #expect(throws: Never.self) { try ExpandPaths("a.b.c.d.e.f", collection: "posts") }
    }
}
