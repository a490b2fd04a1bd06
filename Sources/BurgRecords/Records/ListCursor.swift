import Foundation
internal import GRDB

/// A keyset cursor: the sort keys and rowid of the last record of a page, so the next page starts right
/// after it with an index seek instead of skipping `OFFSET` rows — deep pages cost what the first does,
/// and a record inserted or deleted meanwhile neither repeats nor skips one.
///
/// Opaque to clients (base64url of JSON); it names the sort it was made for and is refused with another.
struct ListCursor: Equatable {
    var sort: String
    var keys: [JSONValue]
    var rowid: Int64

    private struct Payload: Codable {
        var s: String
        var k: [JSONValue]
        var r: Int64
    }

    /// Made for every page that has a next one, so written directly (no JSONEncoder): the payload's JSON
    /// through `JSONValue`, then base64url without padding.
    var token: String {
        let json = JSONValue.object(["s": .string(sort), "k": .array(keys), "r": .number(Double(rowid))]).jsonBytes
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((json.count + 2) / 3 * 4)
        var index = 0
        while index < json.count {
            let chunk = json[index..<min(index + 3, json.count)]
            let bits = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0...chunk.count { out.append(alphabet[Int(bits >> (18 - 6 * UInt32(position)) & 0x3F)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    init(sort: String, keys: [JSONValue], rowid: Int64) {
        self.sort = sort
        self.keys = keys
        self.rowid = rowid
    }

    /// Decodes `token`; nil when it is not a cursor Burg made.
    init?(token: String) {
        guard token.utf8.count <= 16_384 else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let payload = try? JSONDecoder().decode(Payload.self, from: data),
              payload.k.allSatisfy({ if case .array = $0 { false } else if case .object = $0 { false } else { true } })
        else { return nil }
        self.init(sort: payload.s, keys: payload.k, rowid: payload.r)
    }

    static func value(_ stored: DatabaseValue) -> JSONValue {
        switch stored.storage {
        case .null: .null
        case .int64(let integer): .number(Double(integer))
        case .double(let double): .number(double)
        case .string(let string): .string(string)
        case .blob: .null
        }
    }

    /// `(k1, k2, …, rowid)` strictly after this cursor in the order given by `terms` (SQL expression,
    /// descending?), then rowid ascending. NULL sorts first ascending and last descending, as in SQLite.
    func condition(_ terms: [(sql: String, descending: Bool)], rowidSQL: String) -> (sql: String, arguments: StatementArguments) {
        var alternatives: [String] = []
        var arguments = StatementArguments()
        var equalPrefix: [String] = []
        var prefixArguments = StatementArguments()
        for (term, key) in zip(terms, keys) {
            let value = Self.databaseValue(key)
            var after: String
            var afterArguments = StatementArguments()
            switch (term.descending, value == nil) {
            case (false, true): after = "(\(term.sql) IS NOT NULL)"
            case (false, false): after = "(\(term.sql) > ?)"; afterArguments += [value]
            case (true, true): after = "0"
            case (true, false): after = "(\(term.sql) < ? OR \(term.sql) IS NULL)"; afterArguments += [value]
            }
            alternatives.append("(" + (equalPrefix + [after]).joined(separator: " AND ") + ")")
            arguments += prefixArguments
            arguments += afterArguments
            equalPrefix.append("(\(term.sql) IS ?)")
            prefixArguments += [value]
        }
        alternatives.append("(" + (equalPrefix + ["\(rowidSQL) > ?"]).joined(separator: " AND ") + ")")
        arguments += prefixArguments
        arguments += [rowid]
        return ("(" + alternatives.joined(separator: " OR ") + ")", arguments)
    }

    private static func databaseValue(_ value: JSONValue) -> (any DatabaseValueConvertible)? {
        switch value {
        case .number(let number): number
        case .string(let string): string
        case .bool(let flag): flag ? 1 : 0
        default: nil
        }
    }
}
