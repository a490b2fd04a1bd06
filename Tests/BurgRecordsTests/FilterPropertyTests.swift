import BurgRecords
import Foundation
import GRDB
import Testing

/// Random filters over random rows: what SQLite returns for the compiled filter equals a brute-force
/// evaluation of the same filter in Swift (SQL's three-valued logic included).
@Suite struct FilterPropertyTests {
    struct Row {
        var id: String
        var name: String?
        var age: Int?
        var active: Bool?
    }

    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    indirect enum Node {
        case name(String, String?)  // operator, literal (nil = null)
        case age(String, Int?)
        case active(String, Bool?)
        case and(Node, Node)
        case or(Node, Node)

        var text: String {
            switch self {
            case .name(let op, let value): "name \(op) \(value.map { "'\($0)'" } ?? "null")"
            case .age(let op, let value): "age \(op) \(value.map(String.init) ?? "null")"
            case .active(let op, let value): "active \(op) \(value.map { $0 ? "true" : "false" } ?? "null")"
            case .and(let a, let b): "(\(a.text) && \(b.text))"
            case .or(let a, let b): "(\(a.text) || \(b.text))"
            }
        }

        /// SQL's three-valued result: nil is NULL (the row is not selected).
        func evaluate(_ row: Row) -> Bool? {
            switch self {
            case .name(let op, let value): return compare(row.name, op, value) { $0.lowercased().contains($1.lowercased()) }
            case .age(let op, let value): return compare(row.age, op, value) { String($0).contains(String($1)) }
            case .active(let op, let value): return compare(row.active.map { $0 ? 1 : 0 }, op, value.map { $0 ? 1 : 0 }) { _, _ in false }
            case .and(let a, let b):
                let (x, y) = (a.evaluate(row), b.evaluate(row))
                if x == false || y == false { return false }
                return x == nil || y == nil ? nil : true
            case .or(let a, let b):
                let (x, y) = (a.evaluate(row), b.evaluate(row))
                if x == true || y == true { return true }
                return x == nil || y == nil ? nil : false
            }
        }

        func compare<T: Comparable>(_ lhs: T?, _ op: String, _ rhs: T?, contains: (T, T) -> Bool) -> Bool? {
            switch op {
            case "=": return lhs == rhs  // IS
            case "!=": return lhs != rhs  // IS NOT
            default:
                guard let lhs, let rhs else { return nil }
                switch op {
                case ">": return lhs > rhs
                case ">=": return lhs >= rhs
                case "<": return lhs < rhs
                case "<=": return lhs <= rhs
                case "~": return contains(lhs, rhs)
                case "!~": return !contains(lhs, rhs)
                default: fatalError(op)
                }
            }
        }
    }

    static func randomNode(depth: Int, maxTextLength: Int = 2, _ rng: inout SplitMix64) -> Node {
        let ops = ["=", "!=", ">", ">=", "<", "<=", "~", "!~"]
        if depth > 0 && Int.random(in: 0..<3, using: &rng) == 0 {
            let a = randomNode(depth: depth - 1, maxTextLength: maxTextLength, &rng)
            let b = randomNode(depth: depth - 1, maxTextLength: maxTextLength, &rng)
            return Bool.random(using: &rng) ? .and(a, b) : .or(a, b)
        }
        let nullable = Int.random(in: 0..<6, using: &rng) == 0
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            let value = nullable ? nil : String((0..<Int.random(in: 1...maxTextLength, using: &rng)).map { _ in "abC".randomElement(using: &rng)! })
            let op = ops.randomElement(using: &rng)!
            return .name(value == nil && !["=", "!="].contains(op) ? "=" : op, value)
        case 1:
            let op = ops.filter { $0 != "~" && $0 != "!~" }.randomElement(using: &rng)!
            return .age(op, nullable ? nil : Int.random(in: 0...9, using: &rng))
        default:
            return .active(Bool.random(using: &rng) ? "=" : "!=", nullable ? nil : Bool.random(using: &rng))
        }
    }

    @Test func compiledFiltersSelectWhatABruteForceEvaluationSelects() throws {
        var rng = SplitMix64(state: 20_261_123)
        let rows = (0..<300).map { index in
            Row(
                id: String(format: "r%03d", index),
                name: Int.random(in: 0..<8, using: &rng) == 0 ? nil
                    : String((0..<Int.random(in: 0...3, using: &rng)).map { _ in "abcAB".randomElement(using: &rng)! }),
                age: Int.random(in: 0..<8, using: &rng) == 0 ? nil : Int.random(in: 0...9, using: &rng),
                active: Int.random(in: 0..<8, using: &rng) == 0 ? nil : Bool.random(using: &rng))
        }
        let database = try DatabaseQueue()
        try database.write { db in
            try db.execute(sql: "CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT, age INTEGER, active INTEGER)")
            for row in rows {
                try db.execute(
                    sql: "INSERT INTO t VALUES (?, ?, ?, ?)",
                    arguments: [row.id, row.name, row.age, row.active.map { $0 ? 1 : 0 }])
            }
        }
        for _ in 0..<400 {
            let node = Self.randomNode(depth: 3, &rng)
            let compiled = try FilterSQL.compile(node.text, fields: TestFields())
            let (selected, count) = try database.read { db in
                (try String.fetchAll(db, sql: "SELECT id FROM t WHERE \(compiled.sql) ORDER BY id", arguments: StatementArguments(compiled.arguments)),
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t WHERE \(compiled.sql)", arguments: StatementArguments(compiled.arguments))!)
            }
            let expected = rows.filter { node.evaluate($0) == true }.map(\.id)
            #expect(selected == expected, "filter \(node.text)")
            #expect(count == expected.count, "count of \(node.text)")
        }
    }
}
