import Foundation

/// Realistic values for one collection's fields, chosen by type, options and field name.
struct ValueGenerator {
    let collection: Collection
    let relationTargets: [String: [String]]

    static let firstNames = ["Ada", "Ben", "Clara", "David", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Katja", "Luca",
                             "Maya", "Noah", "Olga", "Paul", "Qiu", "Rosa", "Sami", "Tara", "Uwe", "Vera", "Wim", "Yara", "Zoe"]
    static let lastNames = ["Adler", "Becker", "Costa", "Dubois", "Engel", "Fischer", "García", "Hansen", "Ivanova", "Jensen",
                            "Kowalski", "Lange", "Müller", "Novak", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Vogel",
                            "Weber", "Yilmaz", "Zimmermann"]
    static let words = ["steel", "bracket", "valve", "housing", "panel", "sensor", "gear", "frame", "cable", "pump", "filter",
                        "knee", "shoulder", "follow-up", "routine", "check", "pain", "review", "left", "right", "stable", "improving"]
    static let places = ["Hauptstraße", "Marktplatz", "Bahnhofstraße", "Gartenweg", "Lindenallee", "Schulstraße"]
    static let cities = ["Berlin", "Hamburg", "Köln", "Leipzig", "Wien", "Zürich"]
    static let titles = lastNames.flatMap { last in words.map { "\(last) \($0)" } }

    /// The field values of record number `index` (counting records already in the collection, so
    /// unique values continue where an earlier run stopped).
    mutating func record(_ index: Int, _ random: inout SeededRandom) -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        for field in collection.fields where !field.hidden {
            values[field.name] = value(field, index, &random)
        }
        return values
    }

    /// `pool[i % n]`, with a counter once the pool is used up: unique for every `i`.
    static func unique(_ pool: [String], _ index: Int) -> String {
        let round = index / pool.count
        return pool[index % pool.count] + (round == 0 ? "" : " \(round + 1)")
    }

    private func value(_ field: Field, _ index: Int, _ random: inout SeededRandom) -> JSONValue {
        let name = field.name.lowercased()
        let required = field.required
        // Optional fields are sometimes left empty, as real data is.
        if !required && !field.unique && field.type != .bool && Int.random(in: 0..<10, using: &random) == 0 { return .null }
        switch field.type {
        case .text:
            let text: String
            if name.hasSuffix("number") || name.hasSuffix("code") || name.hasSuffix("_no") || name == "sku" {
                let prefix = String(name.prefix(1)).uppercased()
                text = prefix + String(format: "%06d", index + 1)
            } else if name.contains("first_name") || name == "firstname" || name == "given_name" {
                text = Self.unique(Self.firstNames, index)
            } else if name.contains("last_name") || name == "lastname" || name == "surname" || name == "family_name" {
                text = Self.unique(Self.lastNames, index)
            } else if name == "name" || name.hasSuffix("_name") || name == "title" || name == "product" {
                text = Self.unique(Self.titles, index)
            } else if name.contains("phone") {
                text = "+49 \(Int.random(in: 30...89, using: &random)) \(Int.random(in: 1_000_000...9_999_999, using: &random))"
            } else if name.contains("address") {
                text = "\(Self.places.randomElement(using: &random)!) \(Int.random(in: 1...120, using: &random)), \(Self.cities.randomElement(using: &random)!)"
            } else {
                let count = Int.random(in: 3...12, using: &random)
                let sentence = (0..<count).map { _ in Self.words.randomElement(using: &random)! }.joined(separator: " ")
                text = field.unique ? "\(sentence) \(index + 1)" : sentence
            }
            return .string(limit(text, field))
        case .email:
            let first = Self.firstNames[index % Self.firstNames.count].lowercased()
            return .string("\(first).\(index + 1)@example.org")
        case .url:
            return .string("https://example.org/\(collection.name)/\(index + 1)")
        case .number:
            let low = field.min ?? 0
            let high = field.max ?? max(low + 1_000, 1_000)
            var number = Double.random(in: low...high, using: &random)
            if field.onlyInt || (field.max == nil && !name.contains("percent")) { number = number.rounded(.down) }
            else { number = (number * 100).rounded(.down) / 100 }
            return .number(min(max(number, low), high))
        case .bool:
            return .bool(Bool.random(using: &random))
        case .date:
            let (from, to): (Double, Double) = name.contains("birth")
                ? (-1_262_304_000, 1_577_836_800)  // 1930 … 2020
                : (1_640_995_200, 1_798_761_600)  // 2022 … 2026
            return .string(FilterSQL.formatDate(Date(timeIntervalSince1970: Double.random(in: from...to, using: &random).rounded(.down))))
        case .select:
            let choices = field.values ?? []
            guard !choices.isEmpty else { return .null }
            if field.isMultiple {
                let count = Int.random(in: (required ? 1 : 0)...min(choices.count, field.maxSelect ?? 1), using: &random)
                return .array(Array(choices.shuffled(using: &random).prefix(count)).map(JSONValue.string))
            }
            return .string(choices.randomElement(using: &random)!)
        case .relation:
            guard let ids = relationTargets[field.name], !ids.isEmpty else { return .null }
            if field.isMultiple {
                let count = Int.random(in: (required ? 1 : 0)...min(ids.count, field.maxSelect ?? 1), using: &random)
                return .array((0..<count).map { _ in .string(ids.randomElement(using: &random)!) })
            }
            return .string(ids.randomElement(using: &random)!)
        case .json:
            return .object(["n": .number(Double(index)), "tag": .string(Self.words.randomElement(using: &random)!)])
        case .file:
            return .null
        }
    }

    private func limit(_ text: String, _ field: Field) -> String {
        guard let max = field.max, text.count > Int(max) else { return text }
        return String(text.prefix(Int(max)))
    }
}
