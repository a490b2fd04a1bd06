/// PocketBase's index strings, `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (column [COLLATE c]
/// [ASC|DESC], …) [WHERE expression]`, read into ``CollectionModel/Index`` and written back.
///
/// Only that grammar is accepted: a column is a name (bare, "double-quoted", `backticked` or
/// [bracketed]), not an expression; a collation is one of SQLite's own (BINARY, NOCASE, RTRIM); a
/// schema-qualified name, a second statement or anything after the column list but a WHERE is refused
/// with the part named. The WHERE expression is kept as written and judged by SQLite when the index is
/// built (a column that does not exist, a subquery: refused then, nothing changed).
public enum IndexStatement {
    /// Why an index string was refused.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// SQLite's built-in collations, the only ones an index can name.
    public static let collations = ["BINARY", "NOCASE", "RTRIM"]

    public static func parse(_ sql: String) throws(ParseError) -> CollectionModel.Index {
        var tokens = try tokenize(sql)
        // One trailing `;` is what a pasted statement often ends with; anything after it is a second statement.
        if tokens.last?.kind == .punctuation(";") { tokens.removeLast() }
        var reader = Reader(tokens: tokens, sql: sql)
        guard reader.takeKeyword("CREATE") else {
            throw ParseError(message: "Invalid CREATE INDEX expression: it must start with CREATE [UNIQUE] INDEX.")
        }
        let unique = reader.takeKeyword("UNIQUE")
        guard reader.takeKeyword("INDEX") else {
            throw ParseError(message: "Invalid CREATE INDEX expression: only CREATE [UNIQUE] INDEX statements are accepted.")
        }
        if reader.takeKeyword("IF") {
            guard reader.takeKeyword("NOT"), reader.takeKeyword("EXISTS") else {
                throw ParseError(message: "Invalid CREATE INDEX expression: IF must be followed by NOT EXISTS.")
            }
        }
        let name = try reader.identifier(what: "the index name")
        if reader.peekPunctuation(".") {
            throw ParseError(message: "Invalid CREATE INDEX expression: the index name \"\(name)\" cannot name a schema; leave out \"\(name).\".")
        }
        guard reader.takeKeyword("ON") else {
            throw ParseError(message: "Invalid CREATE INDEX expression: ON <collection> is missing after the index name.")
        }
        let table = try reader.identifier(what: "the collection after ON")
        if reader.peekPunctuation(".") {
            throw ParseError(message: "Invalid CREATE INDEX expression: the table \"\(table)\" cannot name a schema.")
        }
        guard reader.takePunctuation("(") else {
            throw ParseError(message: "Invalid CREATE INDEX expression: the column list in parentheses is missing after ON \(table).")
        }
        var columns: [CollectionModel.Index.Column] = []
        repeat {
            if reader.peekPunctuation("(") || reader.peekPunctuation(")") {
                throw ParseError(message: "Invalid CREATE INDEX expression: a column is a field name; expressions are not supported in an index here.")
            }
            var column = CollectionModel.Index.Column(name: try reader.identifier(what: "a column name"))
            if reader.takeKeyword("COLLATE") {
                let collation = try reader.identifier(what: "the collation after COLLATE").uppercased()
                guard collations.contains(collation) else {
                    throw ParseError(message: "Invalid CREATE INDEX expression: collation \(collation) is not one of \(collations.joined(separator: ", ")).")
                }
                column.collation = collation
            }
            if reader.takeKeyword("DESC") { column.descending = true } else { _ = reader.takeKeyword("ASC") }
            if reader.peekPunctuation("(") {
                throw ParseError(message: "Invalid CREATE INDEX expression: \"\(column.name)(…)\" is an expression; only field names are supported in an index here.")
            }
            columns.append(column)
        } while reader.takePunctuation(",")
        guard reader.takePunctuation(")") else {
            throw ParseError(message: "Invalid CREATE INDEX expression: \(reader.describeNext()) where the column list should end with \")\".")
        }
        var condition: String?
        if reader.takeKeyword("WHERE") {
            guard let start = reader.next?.start else {
                throw ParseError(message: "Invalid CREATE INDEX expression: WHERE needs a condition.")
            }
            var depth = 0
            for token in reader.rest {
                switch token.kind {
                case .punctuation(";"):
                    throw ParseError(message: "Invalid CREATE INDEX expression: one statement only (a \";\" inside the WHERE condition).")
                case .punctuation("("): depth += 1
                case .punctuation(")"):
                    depth -= 1
                    if depth < 0 { throw ParseError(message: "Invalid CREATE INDEX expression: unbalanced \")\" in the WHERE condition.") }
                case .word(let word) where word.uppercased() == "SELECT":
                    throw ParseError(message: "Invalid CREATE INDEX expression: a WHERE condition of an index cannot hold a subquery.")
                default: break
                }
            }
            guard depth == 0 else { throw ParseError(message: "Invalid CREATE INDEX expression: unbalanced \"(\" in the WHERE condition.") }
            let end = reader.tokens.last!.end
            condition = String(decoding: sql.utf8[start..<end], as: UTF8.self)
        } else if reader.next != nil {
            throw ParseError(message: "Invalid CREATE INDEX expression: \(reader.describeNext()) after the column list; only a WHERE condition may follow.")
        }
        var index = CollectionModel.Index(name: name, fields: columns.map(\.name), unique: unique)
        index.columns = columns
        index.condition = condition
        index.table = table
        index.sql = sql
        return index
    }

    /// The normal form PocketBase writes when it rewrites an index: backticked names.
    public static func render(_ index: CollectionModel.Index, table: String) -> String {
        func quoted(_ name: String) -> String { "`" + name.replacingOccurrences(of: "`", with: "``") + "`" }
        let columns = index.columns.map { column in
            quoted(column.name) + (column.collation.map { " COLLATE \($0)" } ?? "") + (column.descending ? " DESC" : "")
        }
        return "CREATE \(index.unique ? "UNIQUE " : "")INDEX \(quoted(index.name)) ON \(quoted(table)) (\(columns.joined(separator: ", ")))"
            + (index.condition.map { " WHERE \($0)" } ?? "")
    }

    // MARK: Tokens

    struct Token: Equatable {
        enum Kind: Equatable {
            /// A bare word: keyword or identifier.
            case word(String)
            /// A quoted identifier, unquoted.
            case quoted(String)
            case string
            case number
            case punctuation(String)
        }
        var kind: Kind
        /// UTF-8 offsets in the statement.
        var start: String.UTF8View.Index
        var end: String.UTF8View.Index
    }

    static func tokenize(_ sql: String) throws(ParseError) -> [Token] {
        let utf8 = sql.utf8
        var tokens: [Token] = []
        var i = utf8.startIndex
        func isWordByte(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b >= 0x80 }
        while i < utf8.endIndex {
            let byte = utf8[i]
            let start = i
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D:
                i = utf8.index(after: i)
            case UInt8(ascii: "\""), UInt8(ascii: "`"), UInt8(ascii: "["), UInt8(ascii: "'"):
                let close = byte == UInt8(ascii: "[") ? UInt8(ascii: "]") : byte
                var value: [UInt8] = []
                i = utf8.index(after: i)
                var closed = false
                while i < utf8.endIndex {
                    if utf8[i] == close {
                        let after = utf8.index(after: i)
                        // A doubled closing quote is the quote itself (not for brackets).
                        if close != UInt8(ascii: "]"), after < utf8.endIndex, utf8[after] == close {
                            value.append(close)
                            i = utf8.index(after: after)
                            continue
                        }
                        i = after
                        closed = true
                        break
                    }
                    value.append(utf8[i])
                    i = utf8.index(after: i)
                }
                guard closed else { throw ParseError(message: "Invalid CREATE INDEX expression: a quote (\(Character(Unicode.Scalar(byte)))) is not closed.") }
                let kind: Token.Kind = byte == UInt8(ascii: "'") ? .string : .quoted(String(decoding: value, as: UTF8.self))
                tokens.append(Token(kind: kind, start: start, end: i))
            case UInt8(ascii: "-") where utf8.index(after: i) < utf8.endIndex && utf8[utf8.index(after: i)] == UInt8(ascii: "-"),
                 UInt8(ascii: "/") where utf8.index(after: i) < utf8.endIndex && utf8[utf8.index(after: i)] == UInt8(ascii: "*"):
                throw ParseError(message: "Invalid CREATE INDEX expression: comments are not accepted in an index.")
            case _ where isWordByte(byte):
                while i < utf8.endIndex, isWordByte(utf8[i]) { i = utf8.index(after: i) }
                let text = String(decoding: utf8[start..<i], as: UTF8.self)
                let isNumber = text.utf8.first.map { $0 >= 0x30 && $0 <= 0x39 } ?? false
                tokens.append(Token(kind: isNumber ? .number : .word(text), start: start, end: i))
            default:
                i = utf8.index(after: i)
                tokens.append(Token(kind: .punctuation(String(decoding: utf8[start..<i], as: UTF8.self)), start: start, end: i))
            }
        }
        return tokens
    }

    struct Reader {
        let tokens: [Token]
        let sql: String
        var position = 0

        var next: Token? { position < tokens.count ? tokens[position] : nil }
        var rest: ArraySlice<Token> { tokens[position...] }

        mutating func takeKeyword(_ keyword: String) -> Bool {
            guard case .word(let word)? = next?.kind, word.uppercased() == keyword else { return false }
            position += 1
            return true
        }

        func peekPunctuation(_ mark: String) -> Bool { next?.kind == .punctuation(mark) }

        mutating func takePunctuation(_ mark: String) -> Bool {
            guard peekPunctuation(mark) else { return false }
            position += 1
            return true
        }

        mutating func identifier(what: String) throws(ParseError) -> String {
            switch next?.kind {
            case .word(let word)?:
                position += 1
                return word
            case .quoted(let name)? where !name.isEmpty:
                position += 1
                return name
            default:
                throw ParseError(message: "Invalid CREATE INDEX expression: \(describeNext()) where \(what) should be.")
            }
        }

        func describeNext() -> String {
            guard let token = next else { return "the statement ends" }
            return "\"\(String(decoding: sql.utf8[token.start..<token.end], as: UTF8.self))\" stands"
        }
    }
}
