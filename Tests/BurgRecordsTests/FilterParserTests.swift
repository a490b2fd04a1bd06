import BurgRecords
import Foundation
import GRDB
import Testing

/// Fields of a test table `t`: name (text), age (number), active (bool), created (date), tags (multi),
/// and the relation path customer.name through table `customers`.
struct TestFields: FilterFieldResolver {
    func resolve(_ path: [String]) -> ResolvedFilterField? {
        switch path {
        case ["id"], ["name"]: ResolvedFilterField(sql: "\"t\".\"\(path[0])\"", kind: .text)
        case ["age"]: ResolvedFilterField(sql: "\"t\".\"age\"", kind: .number)
        case ["active"]: ResolvedFilterField(sql: "\"t\".\"active\"", kind: .bool)
        case ["created"]: ResolvedFilterField(sql: "\"t\".\"created\"", kind: .date)
        case ["tags"]: ResolvedFilterField(sql: "\"t\".\"tags\"", kind: .text, isMultiple: true)
        case ["customer", "name"]:
            ResolvedFilterField(
                sql: "(SELECT \"c\".\"name\" FROM \"customers\" AS \"c\" WHERE \"c\".\"id\" = \"t\".\"customer\")",
                kind: .text)
        default: nil
        }
    }
    var knownFields: [String] { ["id", "name", "age", "active", "created", "tags", "customer.name"] }
}

@Suite struct FilterParserTests {
    @Test(arguments: [
        ("name = 'Ann'", "(\"t\".\"name\" IS ?)", 1),
        ("name = \"Ann\" && age >= 18", "((\"t\".\"name\" IS ?) AND (\"t\".\"age\" >= ?))", 2),
        ("(age < 10 || age > 60) && active = true", "(((\"t\".\"age\" < ?) OR (\"t\".\"age\" > ?)) AND (\"t\".\"active\" IS ?))", 3),
        ("name != null", "(\"t\".\"name\" IS NOT NULL)", 0),
        ("name ~ 'an'", "(\"t\".\"name\" LIKE ? ESCAPE '\\')", 1),
        ("name !~ 'an'", "(\"t\".\"name\" NOT LIKE ? ESCAPE '\\')", 1),
        ("created < @now", "(\"t\".\"created\" < ?)", 1),
        ("customer.name = 'ACME'", "((SELECT \"c\".\"name\" FROM \"customers\" AS \"c\" WHERE \"c\".\"id\" = \"t\".\"customer\") IS ?)", 1),
        ("tags ?= 'red'", "EXISTS (SELECT 1 FROM json_each(\"t\".\"tags\") AS \"je\" WHERE (\"je\".\"value\" IS ?))", 1),
        ("age > -1.5e2", "(\"t\".\"age\" > ?)", 1),
        ("   ", "1", 0),
    ])
    func validFiltersCompileToParameterisedSQL(_ filter: String, _ sql: String, _ argumentCount: Int) throws {
        let compiled = try FilterSQL.compile(filter, fields: TestFields())
        #expect(compiled.sql == sql)
        #expect(compiled.argumentCount == argumentCount)
    }

    @Test(arguments: [
        ("name =", FilterError.Code.unexpectedEnd, 7),
        ("name = 'Ann", .unterminatedString, 8),
        ("nmae = 1", .unknownField, 1),
        ("age > 1 && custmer.name = 'x'", .unknownField, 12),
        ("name == 'x'", .unexpectedToken, 7),
        ("(name = 'x'", .unexpectedEnd, 12),
        ("name = 'x')", .unexpectedToken, 11),
        ("name = 1; DROP TABLE t", .unexpectedCharacter, 9),
        ("name = 'x' & age = 1", .unexpectedCharacter, 12),
        ("@me = 1", .unknownMacro, 1),
        ("name = 1.2.3", .invalidNumber, 8),
        ("name 'x'", .unexpectedToken, 6),
        ("= 'x'", .unexpectedToken, 1),
        ("name = 'x' age = 1", .unexpectedToken, 12),
    ])
    func invalidFiltersAreRefusedWithThePosition(_ filter: String, _ code: FilterError.Code, _ position: Int) {
        let error = #expect(throws: FilterError.self) { try FilterSQL.compile(filter, fields: TestFields()) }
        #expect(error?.code == code, "\(filter): \(String(describing: error))")
        #expect(error?.position == position, "\(filter): \(String(describing: error))")
    }

    @Test func hostileSizesAreRefusedNotRecursedInto() {
        let deep = String(repeating: "(", count: 10_000) + "name = 1" + String(repeating: ")", count: 10_000)
        #expect(throws: FilterError.self) { try FilterSQL.compile(deep, fields: TestFields()) }
        let nested = String(repeating: "(", count: 40) + "name = 1" + String(repeating: ")", count: 40)
        let error = #expect(throws: FilterError.self) { try FilterSQL.compile(nested, fields: TestFields()) }
        #expect(error?.code == .tooComplex)
        let wide = (0..<250).map { "age = \($0)" }.joined(separator: " || ")
        #expect(throws: FilterError.self) { try FilterSQL.compile(wide, fields: TestFields()) }
    }

    @Test func errorsShowTheFilterWithACaretAtThePosition() {
        let error = #expect(throws: FilterError.self) { try FilterSQL.compile("age > 1 && nmae = 2", fields: TestFields()) }
        #expect(error?.description.contains("unknown field \"nmae\"") == true)
        #expect(error?.description.contains("\n  age > 1 && nmae = 2\n             ^") == true)
    }

    @Test func sortParsesDirectionsAndRefusesUnknownFields() throws {
        let order = try SortOrder("-created, name", fields: TestFields())
        #expect(order.sql(fields: TestFields()) == "\"t\".\"created\" DESC, \"t\".\"name\" ASC")
        let error = #expect(throws: FilterError.self) { try SortOrder("name,-nope", fields: TestFields()) }
        #expect(error?.code == .invalidSort)
        #expect(error?.position == 6)
        #expect(try SortOrder("", fields: TestFields()).terms.isEmpty)
    }
}

@Suite struct FilterExecutionTests {
    let database: DatabaseQueue

    init() throws {
        database = try DatabaseQueue()
        try database.write { db in
            try db.execute(sql: """
                CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT NOT NULL);
                CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT, age REAL, active INTEGER, created TEXT,
                                tags TEXT NOT NULL DEFAULT '[]', customer TEXT);
                INSERT INTO customers VALUES ('c1', 'ACME'), ('c2', 'Initech');
                INSERT INTO t VALUES
                  ('a', 'Ann', 34, 1, '2024-01-01 10:00:00.000Z', '["red","blue"]', 'c1'),
                  ('b', 'Bob', 17, 0, '2025-06-01 10:00:00.000Z', '["blue"]', 'c2'),
                  ('c', 'x'' OR 1=1 --', 50, 1, '2023-01-01 10:00:00.000Z', '[]', NULL),
                  ('d', '100%_sure', NULL, 0, '2030-01-01 10:00:00.000Z', '["red"]', 'c1'),
                  ('e', NULL, 70, 1, '2022-01-01 10:00:00.000Z', '["green","red"]', 'c2');
                """)
        }
    }

    func ids(_ filter: String, context: FilterContext = FilterContext()) throws -> [String] {
        let compiled = try FilterSQL.compile(filter, fields: TestFields(), context: context)
        return try database.read { db in
            try String.fetchAll(db, sql: "SELECT \"t\".id FROM t WHERE \(compiled.sql) ORDER BY id", arguments: StatementArguments(compiled.arguments))
        }
    }

    @Test(arguments: [
        ("name = 'Ann'", ["a"]),
        ("name = null", ["e"]),
        ("name != 'Ann'", ["b", "c", "d", "e"]),  // NULL-safe: a NULL name is "not Ann"
        ("age >= 34 && active = true", ["a", "c", "e"]),
        ("age < 18 || name ~ 'sure'", ["b", "d"]),
        ("name ~ 'AN'", ["a"]),  // contains, case-insensitive for ASCII
        ("name ~ 'A%'", ["a"]),  // a user-written % makes it a LIKE pattern (prefix match)
        ("name ~ '1%sure'", ["d"]),  // as given: 1, anything, sure
        ("name ~ '_'", ["d"]),  // _ is a literal underscore, not a wildcard
        ("customer.name = 'ACME'", ["a", "d"]),
        ("tags ?= 'red'", ["a", "d", "e"]),
        ("tags = 'blue'", ["b", "c"]),  // every value is blue (an empty list qualifies vacuously)
        ("tags ?~ 'ee'", ["e"]),
        ("created > @now", ["d"]),
    ])
    func filtersSelectExactlyTheMatchingRows(_ filter: String, _ expected: [String]) throws {
        #expect(try ids(filter, context: FilterContext(now: Date(timeIntervalSince1970: 1_800_000_000))) == expected, "\(filter)")
    }

    @Test func injectionAttemptsAreLiteralsOrSyntaxErrorsNeverSQL() throws {
        // The quote inside a double-quoted string is part of the value: it matches the row holding it.
        #expect(try ids("name = \"x' OR 1=1 --\"") == ["c"])
        #expect(try ids("name = 'x\\' OR 1=1 --'") == ["c"])
        #expect(try ids("name = \"Ann\\\" OR 1=1 --\"") == [])
        #expect(throws: FilterError.self) { try ids("name = 1; DROP TABLE t") }
        #expect(throws: FilterError.self) { try ids("name = 'a' OR 1=1") }
        #expect(throws: FilterError.self) { try ids("name = 'a' -- comment") }
        #expect(throws: FilterError.self) { try ids("\"t\".\"name\" = 'a'") }
        #expect(throws: FilterError.self) { try ids("name = (SELECT 1)") }
        // Field names cannot smuggle SQL either: only the resolver's known names compile.
        #expect(throws: FilterError.self) { try ids("sqlite_master.name = 't'") }
        let tables = try database.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(Set(tables) == ["customers", "t"])
    }

    @Test func requestMacrosAreBoundAsValues() throws {
        var context = FilterContext()
        context.request[["auth", "id"]] = .string("c' OR '1'='1")
        #expect(try ids("id = @request.auth.id", context: context) == [])
        context.request[["auth", "id"]] = .string("b")
        #expect(try ids("id = @request.auth.id", context: context) == ["b"])
        #expect(try ids("id = @request.body.missing", context: context) == [])  // absent → NULL
    }
}
