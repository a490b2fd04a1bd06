/// A comparison of the filter language. The `any` forms (`?=`, `?~`, ...) hold when *any* value of a
/// multi-valued field satisfies the comparison; the plain forms need every value to.
public enum FilterOperator: String, Sendable, Equatable, CaseIterable {
    case equal = "=", notEqual = "!=", greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="
    case like = "~", notLike = "!~"
    case anyEqual = "?=", anyNotEqual = "?!=", anyGreater = "?>", anyGreaterOrEqual = "?>="
    case anyLess = "?<", anyLessOrEqual = "?<=", anyLike = "?~", anyNotLike = "?!~"

    /// The comparison without its any-of marker.
    public var base: FilterOperator {
        switch self {
        case .anyEqual: .equal
        case .anyNotEqual: .notEqual
        case .anyGreater: .greater
        case .anyGreaterOrEqual: .greaterOrEqual
        case .anyLess: .less
        case .anyLessOrEqual: .lessOrEqual
        case .anyLike: .like
        case .anyNotLike: .notLike
        default: self
        }
    }

    public var isAny: Bool { rawValue.hasPrefix("?") }

    /// The operator that gives the same result with the operands swapped (`a > b` ⇔ `b < a`).
    var swapped: FilterOperator {
        switch self {
        case .greater: .less
        case .greaterOrEqual: .lessOrEqual
        case .less: .greater
        case .lessOrEqual: .greaterOrEqual
        case .anyGreater: .anyLess
        case .anyGreaterOrEqual: .anyLessOrEqual
        case .anyLess: .anyGreater
        case .anyLessOrEqual: .anyGreaterOrEqual
        default: self
        }
    }
}

/// A token of the filter language with its 1-based position.
struct FilterToken: Equatable {
    enum Kind: Equatable {
        case identifier(String)  // name, relation path `customer.name`, or macro `@now`, `@request.auth.id`
        case string(String)
        case number(String)
        case comparison(FilterOperator)
        case and, or, openParen, closeParen
        case trueLiteral, falseLiteral, nullLiteral
        case end
    }

    var kind: Kind
    var position: Int
}

/// Splits a filter into tokens. Never evaluates anything; unknown characters are errors with positions.
struct FilterLexer {
    private let characters: [Character]
    private let text: String
    private var index = 0

    init(_ text: String) {
        self.text = text
        self.characters = Array(text)
    }

    mutating func tokens() throws(FilterError) -> [FilterToken] {
        var result: [FilterToken] = []
        while true {
            let token = try next()
            result.append(token)
            if token.kind == .end { return result }
        }
    }

    private func error(_ code: FilterError.Code, _ message: String, at position: Int) -> FilterError {
        FilterError(code, position: position, message: message, text: text)
    }

    private func peek(_ offset: Int = 0) -> Character? {
        index + offset < characters.count ? characters[index + offset] : nil
    }

    private mutating func next() throws(FilterError) -> FilterToken {
        while let c = peek(), c.isWhitespace { index += 1 }
        let start = index + 1
        guard let c = peek() else { return FilterToken(kind: .end, position: start) }

        func token(_ kind: FilterToken.Kind, length: Int) -> FilterToken {
            index += length
            return FilterToken(kind: kind, position: start)
        }

        switch c {
        case "(": return token(.openParen, length: 1)
        case ")": return token(.closeParen, length: 1)
        case "&":
            guard peek(1) == "&" else { throw error(.unexpectedCharacter, "expected \"&&\"", at: start) }
            return token(.and, length: 2)
        case "|":
            guard peek(1) == "|" else { throw error(.unexpectedCharacter, "expected \"||\"", at: start) }
            return token(.or, length: 2)
        case "\"", "'":
            return FilterToken(kind: .string(try readString(quote: c, start: start)), position: start)
        case "=", "!", ">", "<", "~", "?":
            for op in FilterOperator.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count }) {
                let symbol = Array(op.rawValue)
                if (0..<symbol.count).allSatisfy({ peek($0) == symbol[$0] }) {
                    return token(.comparison(op), length: symbol.count)
                }
            }
            throw error(.unexpectedCharacter, "unknown operator \"\(c)\"", at: start)
        default:
            if c.isASCII && (c.isNumber || (c == "-" && (peek(1)?.isNumber ?? false)) || (c == "." && (peek(1)?.isNumber ?? false))) {
                return FilterToken(kind: .number(try readNumber(start: start)), position: start)
            }
            if c == "@" || c == "_" || (c.isASCII && c.isLetter) {
                let word = readWord()
                switch word {
                case "true": return FilterToken(kind: .trueLiteral, position: start)
                case "false": return FilterToken(kind: .falseLiteral, position: start)
                case "null": return FilterToken(kind: .nullLiteral, position: start)
                default:
                    guard isValidPath(word) else {
                        throw error(.unexpectedCharacter, "invalid name \"\(word)\"", at: start)
                    }
                    return FilterToken(kind: .identifier(word), position: start)
                }
            }
            throw error(.unexpectedCharacter, "unexpected character \"\(c)\"", at: start)
        }
    }

    private mutating func readString(quote: Character, start: Int) throws(FilterError) -> String {
        index += 1
        var value = ""
        while let c = peek() {
            index += 1
            if c == quote { return value }
            if c == "\\", let escaped = peek() {
                index += 1
                value.append(escaped)
            } else {
                value.append(c)
            }
        }
        throw error(.unterminatedString, "string opened here is never closed (missing \(quote))", at: start)
    }

    private mutating func readNumber(start: Int) throws(FilterError) -> String {
        var text = ""
        while let c = peek(), c.isASCII, c.isNumber || c == "." || c == "-" || c == "e" || c == "E" || c == "+" {
            // A sign is part of the number only at its start or right after an exponent marker.
            if (c == "-" || c == "+") && !(text.isEmpty || text.last == "e" || text.last == "E") { break }
            text.append(c)
            index += 1
        }
        guard Double(text) != nil else { throw error(.invalidNumber, "invalid number \"\(text)\"", at: start) }
        return text
    }

    private mutating func readWord() -> String {
        var word = ""
        while let c = peek(), c == "@" || c == "_" || c == "." || (c.isASCII && (c.isLetter || c.isNumber)) {
            word.append(c)
            index += 1
        }
        return word
    }

    /// `name`, `customer.name`, `@now`, `@request.auth.id`: dot-separated parts of `[A-Za-z_][A-Za-z0-9_]*`,
    /// the first optionally prefixed by `@`.
    private func isValidPath(_ word: String) -> Bool {
        let body = word.hasPrefix("@") ? word.dropFirst() : Substring(word)
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy { part in
            guard let first = part.first, first == "_" || first.isLetter else { return false }
            return part.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber } && !part.contains("@")
        }
    }
}
