/// A literal value in a filter.
public enum FilterValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case double(Double)
    case bool(Bool)
    case null
}

/// One side of a comparison.
public enum FilterOperand: Sendable, Equatable {
    /// A field of the record, or a path through relations: `["customer", "name"]`.
    case field(path: [String], position: Int)
    /// A literal: string, number, bool or null.
    case literal(FilterValue)
    /// `@now`: the time the filter is evaluated.
    case now
    /// `@request.auth.id`, `@request.body.title`: a value of the request, bound as a literal.
    case request(path: [String], position: Int)
}

/// A parsed filter: comparisons joined by `&&` and `||`. Built only by ``FilterParser``; contains no SQL.
public indirect enum FilterExpression: Sendable, Equatable {
    case comparison(FilterOperand, FilterOperator, FilterOperand, position: Int)
    case and([FilterExpression])
    case or([FilterExpression])
}

/// Parses the filter language (PocketBase-compatible):
///
/// ```
/// expression := and ( "||" and )*
/// and        := primary ( "&&" primary )*
/// primary    := "(" expression ")" | operand comparison operand
/// operand    := field | relation.path | 'string' | "string" | number | true | false | null
///             | @now | @request.auth.<field> | @request.body.<field>
/// comparison := = != > >= < <= ~ !~ ?= ?!= ?> ?>= ?< ?<= ?~ ?!~
/// ```
///
/// Hostile input is bounded: at most ``maxLength`` characters, ``maxDepth`` nested parentheses and
/// ``maxComparisons`` comparisons, so that no filter can exhaust the stack or the CPU.
public enum FilterParser {
    public static let maxLength = 4096
    public static let maxDepth = 32
    public static let maxComparisons = 200

    /// Parses `text`; an empty (or all-blank) filter is nil: no condition.
    public static func parse(_ text: String) throws(FilterError) -> FilterExpression? {
        guard text.count <= maxLength else {
            throw FilterError(.tooComplex, position: maxLength, message: "longer than \(maxLength) characters", text: text)
        }
        var lexer = FilterLexer(text)
        var parser = Parser(tokens: try lexer.tokens(), text: text)
        if parser.current.kind == .end { return nil }
        let expression = try parser.expression(depth: 0)
        guard parser.current.kind == .end else {
            throw parser.unexpected("expected \"&&\", \"||\" or the end of the filter")
        }
        return expression
    }

    private struct Parser {
        let tokens: [FilterToken]
        let text: String
        var index = 0
        var comparisons = 0

        var current: FilterToken { tokens[index] }

        func unexpected(_ expectation: String) -> FilterError {
            if current.kind == .end {
                return FilterError(.unexpectedEnd, position: current.position, message: "unexpected end: \(expectation)", text: text)
            }
            return FilterError(.unexpectedToken, position: current.position, message: expectation, text: text)
        }

        mutating func expression(depth: Int) throws(FilterError) -> FilterExpression {
            var terms = [try conjunction(depth: depth)]
            while current.kind == .or {
                index += 1
                terms.append(try conjunction(depth: depth))
            }
            return terms.count == 1 ? terms[0] : .or(terms)
        }

        mutating func conjunction(depth: Int) throws(FilterError) -> FilterExpression {
            var terms = [try primary(depth: depth)]
            while current.kind == .and {
                index += 1
                terms.append(try primary(depth: depth))
            }
            return terms.count == 1 ? terms[0] : .and(terms)
        }

        mutating func primary(depth: Int) throws(FilterError) -> FilterExpression {
            if current.kind == .openParen {
                guard depth < maxDepth else {
                    throw FilterError(.tooComplex, position: current.position, message: "more than \(maxDepth) nested parentheses", text: text)
                }
                index += 1
                let inner = try expression(depth: depth + 1)
                guard current.kind == .closeParen else { throw unexpected("expected \")\"") }
                index += 1
                return inner
            }
            let position = current.position
            let left = try operand()
            guard case .comparison(let op) = current.kind else {
                throw unexpected("expected a comparison (=, !=, >, >=, <, <=, ~, !~ or their ?-forms)")
            }
            index += 1
            let right = try operand()
            comparisons += 1
            guard comparisons <= maxComparisons else {
                throw FilterError(.tooComplex, position: position, message: "more than \(maxComparisons) comparisons", text: text)
            }
            return .comparison(left, op, right, position: position)
        }

        mutating func operand() throws(FilterError) -> FilterOperand {
            let token = current
            switch token.kind {
            case .string(let value):
                index += 1
                return .literal(.string(value))
            case .number(let value):
                index += 1
                if let integer = Int64(value) { return .literal(.integer(integer)) }
                return .literal(.double(Double(value)!))  // the lexer checked it parses
            case .trueLiteral:
                index += 1
                return .literal(.bool(true))
            case .falseLiteral:
                index += 1
                return .literal(.bool(false))
            case .nullLiteral:
                index += 1
                return .literal(.null)
            case .identifier(let name):
                index += 1
                let path = name.split(separator: ".").map(String.init)
                guard name.hasPrefix("@") else { return .field(path: path, position: token.position) }
                if name == "@now" { return .now }
                if path.count >= 3 && path[0] == "@request" && (path[1] == "auth" || path[1] == "body") {
                    return .request(path: Array(path.dropFirst()), position: token.position)
                }
                throw FilterError(.unknownMacro, position: token.position,
                    message: "unknown macro \"\(name)\" (known: @now, @request.auth.<field>, @request.body.<field>)", text: text)
            default:
                throw unexpected("expected a field, a value or a macro")
            }
        }
    }
}
