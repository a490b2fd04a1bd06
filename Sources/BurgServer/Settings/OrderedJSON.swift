import BurgRecords

/// JSON whose object members keep the order they are listed in. ``JSONValue`` writes keys sorted (the
/// form Burg stores); PocketBase answers some objects — the settings — in its struct's field order, and
/// clients that diff or display them see that order.
indirect enum OrderedJSON: Sendable, Equatable {
    case value(JSONValue)
    case object([Member])
    case array([OrderedJSON])

    struct Member: Sendable, Equatable {
        var key: String
        var value: OrderedJSON
    }

    /// `["a": x, "b": y]` in this order.
    static func members(_ pairs: KeyValuePairs<String, OrderedJSON>) -> OrderedJSON {
        .object(pairs.map { Member(key: $0.key, value: $0.value) })
    }

    /// Compact JSON text; leaves are written as ``JSONValue`` writes them.
    var jsonText: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// The same value without the order (for comparisons and storage).
    var plain: JSONValue {
        switch self {
        case .value(let value): value
        case .array(let items): .array(items.map(\.plain))
        case .object(let members): .object(Dictionary(members.map { ($0.key, $0.value.plain) }, uniquingKeysWith: { _, last in last }))
        }
    }

    private func write(to out: inout String) {
        switch self {
        case .value(let value): out += value.jsonText
        case .array(let items):
            out += "["
            for (offset, item) in items.enumerated() {
                if offset > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (offset, member) in members.enumerated() {
                if offset > 0 { out += "," }
                out += JSONValue.string(member.key).jsonText
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }
}

extension OrderedJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    init(stringLiteral value: String) { self = .value(.string(value)) }
    init(integerLiteral value: Int) { self = .value(.number(Double(value))) }
    init(booleanLiteral value: Bool) { self = .value(.bool(value)) }
    static func string(_ text: String) -> OrderedJSON { .value(.string(text)) }
    static func int(_ number: Int) -> OrderedJSON { .value(.number(Double(number))) }
    static func bool(_ flag: Bool) -> OrderedJSON { .value(.bool(flag)) }
    static func strings(_ list: [String]) -> OrderedJSON { .value(.array(list.map(JSONValue.string))) }
}
