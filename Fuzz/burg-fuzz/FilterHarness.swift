import BurgCore
import BurgRecords
import BurgStore
import Foundation
import SystemPackage

/// A real store with two related collections covering every kind of field a filter or sort can name:
/// text (one searchable through the trigram index), number, bool, date, json, a multi-select, a single
/// relation (paths `author.name`) and an auth collection's email (hidden from clients).
struct ListFixture: Sendable {
    let records: RecordStore
    let fields: CollectionFields

    static let shared = ListFixture()

    private init() {
        let dir = temporaryDirectory("list")
        do {
            let store = try Store(StoreConfiguration(dataDirectory: FilePath(dir.path)), migrations: .store + CollectionRegistry.migrations)
            let registry = CollectionRegistry(store: store)
            var email = Field(name: "email", type: .email)
            email.required = false
            // The columns an auth collection has (BurgAuth adds them); the resolver reads emailVisibility.
            let authors = CollectionModel(name: "authors", fields: [Field(name: "name", type: .text), email,
                Field(name: "emailVisibility", type: .bool)], type: .auth)
            var title = Field(name: "title", type: .text)
            title.searchable = true
            var tags = Field(name: "tags", type: .select)
            tags.values = ["a", "b", "c"]
            tags.maxSelect = 3
            var author = Field(name: "author", type: .relation)
            author.collection = "authors"
            let posts = CollectionModel(name: "posts", fields: [
                title, Field(name: "views", type: .number), Field(name: "published", type: .bool),
                Field(name: "when", type: .date), Field(name: "meta", type: .json), tags, author,
            ])
            let created = try registry.createAll([authors, posts])
            records = RecordStore(store: store)
            let writer = try records.create("authors", ["name": "Ada", "email": "ada@example.com"])
            // Rows, so that every condition is evaluated by SQLite (an empty table may skip the WHERE).
            try records.create("posts", ["title": "hello world", "views": 3, "published": true, "when": "2024-01-31 09:05:00.000Z",
                "meta": ["k": [1, 2]], "tags": ["a", "c"], "author": .string(writer.id)])
            try records.create("posts", ["title": "", "views": -1.5, "tags": []])
            fields = CollectionFields(created.first { $0.name == "posts" }!, all: created)
        } catch {
            unexpected(error, "setting up the list fixture")
        }
    }

    /// Lists posts with `filter` and `sort` the way the server does: any error but the typed refusals of
    /// a bad filter or sort is a bug (SQLite refused SQL the compiler produced, or worse).
    func list(filter: String, sort: String, client: Bool) -> Bool {
        var query = ListQuery()
        query.filter = filter
        query.sort = sort
        query.perPage = 5
        query.context = FilterContext(now: Date(timeIntervalSince1970: 1_700_000_000),
            request: [["auth", "id"]: .string("x'\"y"), ["body", "title"]: .string("hello")],
            viewer: client ? .client(authId: "") : .administrator)
        do {
            let result = try records.list("posts", query)
            require(result.items.count <= 5, "a page of 5 returned \(result.items.count) items")
            return true
        } catch is FilterError {
            return false
        } catch {
            unexpected(error, "listing with filter \(filter.debugDescription) sort \(sort.debugDescription)")
        }
    }
}

/// Filter parser and compiler. Invariants: the parser either throws a `FilterError` whose position lies
/// in the text, or returns an expression that, rendered back to filter text, parses to the same
/// expression; the compiled SQL of a parsed filter over the fixture's schema is accepted and run by
/// SQLite (as an administrator and as a client), refusals being only `FilterError` (unknown fields).
enum FilterHarness {
    static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        let expression: FilterExpression?
        do {
            expression = try FilterParser.parse(text)
        } catch {
            require(error.position >= 1 && error.position <= max(text.count + 1, FilterParser.maxLength),
                "position \(error.position) outside the text of \(text.count) characters")
            require(!error.description.isEmpty, "an empty error description")
            return
        }
        guard let expression else {
            require(text.allSatisfy(\.isWhitespace), "nil (no condition) for a filter that is not blank: \(text.debugDescription)")
            _ = ListFixture.shared.list(filter: text, sort: "", client: false)
            return
        }
        let rendered = FilterRendering.text(expression)
        if rendered.count <= FilterParser.maxLength {
            do {
                let again = try FilterParser.parse(rendered)
                require(again.map(FilterRendering.withoutPositions) == FilterRendering.withoutPositions(expression),
                    "\(text.debugDescription) rendered as \(rendered.debugDescription) parses to another expression")
            } catch {
                require(false, "\(text.debugDescription) rendered as \(rendered.debugDescription) does not parse: \(error)")
            }
        }
        let fixture = ListFixture.shared
        _ = fixture.list(filter: text, sort: "", client: false)
        _ = fixture.list(filter: text, sort: "", client: true)
    }
}

/// Sort parser. Invariants: a sort either throws `FilterError.invalidSort` or parses to terms that
/// render back to the same terms, and the listing with it runs in SQLite.
enum SortHarness {
    static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        let fixture = ListFixture.shared
        let order: BurgRecords.SortOrder
        do {
            order = try BurgRecords.SortOrder(text, fields: fixture.fields)
        } catch {
            require(error.code == .invalidSort, "a sort refused with \(error.code)")
            require(error.position >= 1 && error.position <= max(text.count + 1, FilterParser.maxLength),
                "position \(error.position) outside the text of \(text.count) characters")
            return
        }
        require(order.terms.count <= BurgRecords.SortOrder.maxTerms, "\(order.terms.count) terms")
        let rendered = order.terms.map { ($0.descending ? "-" : "") + $0.path.joined(separator: ".") }.joined(separator: ",")
        do {
            let again = try BurgRecords.SortOrder(rendered, fields: fixture.fields)
            require(again == order, "\(text.debugDescription) rendered as \(rendered.debugDescription) parses to other terms")
        } catch {
            require(false, "\(text.debugDescription) rendered as \(rendered.debugDescription) is refused: \(error)")
        }
        require(fixture.list(filter: "", sort: text, client: false), "a parsed sort \(text.debugDescription) refused by the listing")
        _ = fixture.list(filter: "", sort: text, client: true)
    }
}

/// Filter text for an expression, with parentheses only where the structure needs them (so a rendering
/// is never nested deeper than its source).
enum FilterRendering {
    static func text(_ expression: FilterExpression) -> String {
        switch expression {
        case .comparison(let left, let op, let right, _):
            return operand(left) + " " + op.rawValue + " " + operand(right)
        case .and(let terms):
            return terms.map { term in
                if case .comparison = term { return text(term) }
                return "(" + text(term) + ")"
            }.joined(separator: " && ")
        case .or(let terms):
            return terms.map { term in
                if case .or = term { return "(" + text(term) + ")" }
                return text(term)
            }.joined(separator: " || ")
        }
    }

    static func operand(_ operand: FilterOperand) -> String {
        switch operand {
        case .field(let path, _): return path.joined(separator: ".")
        case .now: return "@now"
        case .request(let path, _): return "@request." + path.joined(separator: ".")
        case .literal(.null): return "null"
        case .literal(.bool(let flag)): return flag ? "true" : "false"
        case .literal(.integer(let integer)): return String(integer)
        case .literal(.double(let double)):
            // An overflowing literal (1e999) parses to infinity; write one that does too.
            if double.isInfinite { return double < 0 ? "-1e999" : "1e999" }
            return "\(double)"
        case .literal(.string(let string)):
            return "\"" + string.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
    }

    /// The expression with every position 0: renderings move things about.
    static func withoutPositions(_ expression: FilterExpression) -> FilterExpression {
        switch expression {
        case .comparison(let left, let op, let right, _): .comparison(strip(left), op, strip(right), position: 0)
        case .and(let terms): .and(terms.map(withoutPositions))
        case .or(let terms): .or(terms.map(withoutPositions))
        }
    }

    static func strip(_ operand: FilterOperand) -> FilterOperand {
        switch operand {
        case .field(let path, _): .field(path: path, position: 0)
        case .request(let path, _): .request(path: path, position: 0)
        default: operand
        }
    }
}
