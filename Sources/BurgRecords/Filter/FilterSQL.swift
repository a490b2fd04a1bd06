import BurgStore
import Foundation

/// What a field name (or relation path) of a filter means in SQL. Produced by a ``FilterFieldResolver``
/// from the collection's schema; never from the filter text itself.
public struct ResolvedFilterField: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case text, number, bool, date, json }

    /// A SQL expression for the value: a quoted column (`"t"."name"`) or a correlated subquery for a
    /// relation path. Built by the resolver from schema names only.
    public var sql: String
    public var kind: Kind
    /// True for multi-valued fields stored as a JSON array (multi-select, multi-relation, multi-file).
    public var isMultiple: Bool
    /// A full-text index that can serve `~` on this field, if there is one.
    public var search: Search?

    /// A trigram full-text index over the field: `~ "text"` becomes `<rowid> IN (SELECT rowid FROM
    /// <table> WHERE <table> MATCH '<column> : "text"')`, then rechecked with LIKE for exact semantics.
    public struct Search: Sendable, Equatable {
        /// The quoted FTS5 table.
        public var table: String
        /// The field's column name in that table (a schema name, letters, digits and `_`).
        public var column: String
        /// The SQL of the searched row's rowid (`"t"."rowid"`).
        public var rowid: String
        public init(table: String, column: String, rowid: String) {
            self.table = table
            self.column = column
            self.rowid = rowid
        }
    }

    public init(sql: String, kind: Kind, isMultiple: Bool = false, search: Search? = nil) {
        self.sql = sql
        self.kind = kind
        self.isMultiple = isMultiple
        self.search = search
    }
}

/// Maps the field paths of a filter to SQL, refusing unknown fields.
public protocol FilterFieldResolver: Sendable {
    /// The SQL for `path` (`["name"]`, `["customer", "name"]`), or nil if no such field exists.
    func resolve(_ path: [String]) -> ResolvedFilterField?
    /// Field names to suggest when a path is unknown.
    var knownFields: [String] { get }
}

/// The values macros stand for when a filter is compiled.
public struct FilterContext: Sendable {
    /// `@now`.
    public var now: Date
    /// `@request.auth.<field>` as `["auth", field]`, `@request.body.<field>` as `["body", field]`;
    /// an absent key compiles to NULL.
    public var request: [[String]: FilterValue]

    /// Whose filter and sort this is: it decides which emails of auth records the client may name.
    /// Access rules are the administrator's and always see every field.
    public var viewer: FilterViewer

    public init(now: Date = Date(), request: [[String]: FilterValue] = [:], viewer: FilterViewer = .administrator) {
        self.now = now
        self.request = request
        self.viewer = viewer
    }
}

/// Who sent a filter or sort. A client's may name an auth record's `email` only where that email is
/// visible to them (their own record, or `emailVisibility` on), and may not reach `_superusers` through
/// a relation at all — else a filter could confirm a person's address without ever showing it.
public enum FilterViewer: Sendable, Equatable {
    /// Superusers, the CLI, Burg's own code: every field.
    case administrator
    /// A signed-in record (`id`) or a guest (`""`).
    case client(authId: String)
}

/// A filter compiled to a parameterised SQL condition. Every value of the filter is in ``arguments``;
/// ``sql`` holds only operators, placeholders and the resolver's column expressions. The SQL is
/// spelled by a ``SQLDialect`` (placeholders, `LIKE` escapes, JSON array expansion, full-text
/// narrowing, NULL-safe equality), so the same filter compiles for each storage engine.
public struct FilterSQL: Sendable {
    public var sql: String
    public var arguments: [SQLValue]
    /// How many placeholders ``sql`` has.
    public var argumentCount: Int

    /// Compiles `expression` against `fields`. Throws ``FilterError`` for unknown fields.
    public init(
        _ expression: FilterExpression, text: String, fields: some FilterFieldResolver,
        context: FilterContext = FilterContext(), dialect: SQLDialect = .sqlite
    ) throws(FilterError) {
        var compiler = Compiler(text: text, fields: fields, context: context, dialect: dialect)
        sql = try compiler.compile(expression)
        arguments = compiler.values
        argumentCount = compiler.values.count
    }

    /// Parses and compiles `text`; an empty filter is `1` (no condition).
    public static func compile(
        _ text: String, fields: some FilterFieldResolver, context: FilterContext = FilterContext(),
        dialect: SQLDialect = .sqlite
    ) throws(FilterError) -> FilterSQL {
        guard let expression = try FilterParser.parse(text) else { return FilterSQL(sql: "1") }
        return try FilterSQL(expression, text: text, fields: fields, context: context, dialect: dialect)
    }

    private init(sql: String) {
        self.sql = sql
        self.arguments = []
        self.argumentCount = 0
    }

    /// Both conditions (an access rule and a user's filter), this one's arguments first. (A dialect
    /// with numbered placeholders compiles the second with its numbering continued instead.)
    public func and(_ other: FilterSQL) -> FilterSQL {
        var both = FilterSQL(sql: "(\(sql)) AND (\(other.sql))")
        both.arguments = arguments + other.arguments
        both.argumentCount = argumentCount + other.argumentCount
        return both
    }

    /// Dates are stored and compared as PocketBase's text form, `2024-01-31 09:05:00.000Z`.
    public static func formatDate(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        let milliseconds = Int(((seconds - Double(whole)) * 1000).rounded(.down))
        var parts = tm()
        gmtime_r(&whole, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2)) "
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))Z"
    }

    private struct Compiler {
        let text: String
        let fields: any FilterFieldResolver
        let context: FilterContext
        let dialect: SQLDialect
        var values: [SQLValue] = []

        init(text: String, fields: some FilterFieldResolver, context: FilterContext, dialect: SQLDialect) {
            self.text = text
            self.fields = fields
            self.context = context
            self.dialect = dialect
        }

        /// Adds `value` to the arguments and returns its placeholder.
        mutating func bind(_ value: SQLValue) -> String {
            values.append(value)
            return dialect.placeholder(values.count - 1)
        }

        mutating func compile(_ expression: FilterExpression) throws(FilterError) -> String {
            switch expression {
            case .and(let terms):
                return try "(" + terms.map { (term) throws(FilterError) in try compile(term) }.joined(separator: " AND ") + ")"
            case .or(let terms):
                return try "(" + terms.map { (term) throws(FilterError) in try compile(term) }.joined(separator: " OR ") + ")"
            case .comparison(let left, let op, let right, _):
                return try comparison(left, op, right)
            }
        }

        /// An operand as SQL: a resolved field, or a placeholder whose value goes to `values`.
        enum Side {
            case field(ResolvedFilterField)
            case value(FilterValue)
        }

        func side(_ operand: FilterOperand) throws(FilterError) -> Side {
            switch operand {
            case .field(let path, let position):
                guard let field = fields.resolve(path) else {
                    let known = fields.knownFields.prefix(20).joined(separator: ", ")
                    throw FilterError(.unknownField, position: position,
                        message: "unknown field \"\(path.joined(separator: "."))\" (known: \(known))", text: text)
                }
                return .field(field)
            case .literal(let value):
                return .value(value)
            case .now:
                return .value(.string(FilterSQL.formatDate(context.now)))
            case .request(let path, _):
                return .value(context.request[path] ?? .null)
            }
        }

        mutating func sql(_ side: Side, likePattern: Bool = false) -> String {
            switch side {
            case .field(let field):
                return likePattern ? "('%' || \(field.sql) || '%')" : field.sql
            case .value(.null):
                return "NULL"
            case .value(let value):
                return bind(sqlValue(value, likePattern: likePattern))
            }
        }

        func sqlValue(_ value: FilterValue, likePattern: Bool) -> SQLValue {
            switch value {
            case .string(let string):
                guard likePattern else { return .text(string) }
                // "contains": wrap in %…% with LIKE's wildcards escaped, unless the user wrote a pattern.
                if string.contains("%") { return .text(string) }
                return .text("%" + dialect.likeLiteral(string) + "%")
            case .integer(let integer): return likePattern ? .text("%\(integer)%") : .integer(Int64(integer))
            case .double(let double): return likePattern ? .text("%\(double)%") : .real(double)
            case .bool(let bool): return .integer(bool ? 1 : 0)
            case .null: return .null
            }
        }

        mutating func comparison(_ leftOperand: FilterOperand, _ op: FilterOperator, _ rightOperand: FilterOperand)
            throws(FilterError) -> String
        {
            var left = try side(leftOperand)
            var right = try side(rightOperand)
            var op = op
            // Keep a multi-valued field on the left, where json_each expands it.
            if case .field(let field) = right, field.isMultiple {
                swap(&left, &right)
                op = op.swapped
            }
            if case .field(let field) = left, field.isMultiple {
                let element = ResolvedFilterField(sql: "\"je\".\"value\"", kind: field.kind)
                let condition = plain(.field(element), op.base, right)
                let elements = dialect.jsonArrayElements(field.sql, alias: "je")
                if op.isAny {
                    return "EXISTS (SELECT 1 FROM \(elements) WHERE \(condition))"
                }
                // Plain operators on a multi-valued field hold when every value satisfies them.
                return "NOT EXISTS (SELECT 1 FROM \(elements) WHERE NOT (\(condition)))"
            }
            return plain(left, op.base, right)
        }

        mutating func plain(_ left: Side, _ op: FilterOperator, _ right: Side) -> String {
            switch op {
            case .equal: return dialect.isSame(sql(left), sql(right))  // NULL-safe equality, indexable
            case .notEqual: return dialect.isSame(sql(left), sql(right), negated: true)
            case .like:
                let like = "(\(sql(left)) LIKE \(sql(right, likePattern: true)) \(dialect.likeEscapeClause))"
                // A searchable field narrows the candidates through its trigram index; LIKE then decides,
                // so the result is the same with or without the index (only faster).
                if case .field(let field) = left, let search = field.search, case .value(.string(let text)) = right,
                   !text.contains("%"), let query = SearchIndex.query(column: search.column, contains: text) {
                    // bound after LIKE's value: the placeholders come in this order
                    let placeholder = bind(.text(query))
                    if let narrowing = dialect.fullTextNarrowing(rowid: search.rowid, table: search.table, placeholder: placeholder) {
                        return "(\(like) AND \(narrowing))"
                    }
                    values.removeLast()
                }
                return like
            case .notLike: return "(\(sql(left)) NOT LIKE \(sql(right, likePattern: true)) \(dialect.likeEscapeClause))"
            default: return "(\(sql(left)) \(op.rawValue) \(sql(right)))"
            }
        }
    }
}
