import Foundation

/// Realistic values for one collection's fields, chosen by type, options and field name.
struct ValueGenerator {
    let collection: CollectionModel
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
    static let insurers = ["AOK Bayern", "AOK Nordost", "Techniker Krankenkasse", "Barmer", "DAK-Gesundheit", "IKK classic", "KKH",
                           "HEK", "Debeka", "Allianz Private Krankenversicherung", "ÖGK", "SVS", "Helsana", "CSS", "Swica"]
    static let countries = ["Germany", "Austria", "Switzerland"]
    static let companySuffixes = ["GmbH", "AG", "KG", "& Söhne", "Metallbau GmbH", "Logistik GmbH"]
    static let products = ["Steel bracket 40 mm", "Valve housing DN50", "Control panel CP-200", "Pressure sensor 10 bar", "Gear shaft M8",
                           "Door frame, oak", "Power cable 3 x 1.5 mm²", "Water pump 230 V", "Air filter F7", "Hydraulic hose 1 m",
                           "Mounting plate 200 x 300", "Ball bearing 6204"]
    static let reasons = ["knee pain after sport", "follow-up after surgery", "routine check-up", "shoulder pain when lifting",
                          "skin lesion check", "lower back pain", "wound check", "vaccination", "persistent headache",
                          "allergy consultation", "second opinion", "sprained ankle"]
    static let diagnoses = ["meniscus tear, left knee", "rotator cuff tendinitis", "lumbar strain", "benign nevus", "contact dermatitis",
                            "tension headache", "wound healing well, no infection", "mild hypertension", "seasonal allergic rhinitis",
                            "ankle sprain, grade I", "osteoarthritis of the right hip", "no pathological findings"]
    static let clinicalNotes = ["Patient reports improvement since the last visit.", "Follow-up in four weeks.", "No complications observed.",
                                "Treatment options discussed; the patient agreed to the plan.", "Awaiting lab results.",
                                "Pain medication as needed.", "Physiotherapy twice a week recommended.", "Referred to a specialist.",
                                "Consent form signed.", "Wound dressing changed."]
    static let businessNotes = ["Delivered on schedule.", "Customer asked for an updated quote.", "Material reserved in the warehouse.",
                                "Waiting for the supplier's confirmation.", "Quality check passed.", "Priority order: ship by express.",
                                "Invoice sent.", "Partial delivery agreed with the customer.", "Inspected on arrival, no damage."]

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
            var text: String
            // Drawn from a pool at random rather than numbered: a unique field gets the number appended.
            var pooled = false
            if name.hasSuffix("number") || name.hasSuffix("code") || name.hasSuffix("_no") || name == "sku" {
                let prefix = String(name.prefix(1)).uppercased()
                text = prefix + String(format: "%06d", index + 1)
            } else if name.contains("first_name") || name == "firstname" || name == "given_name" {
                text = Self.unique(Self.firstNames, index)
            } else if name.contains("last_name") || name == "lastname" || name == "surname" || name == "family_name" {
                text = Self.unique(Self.lastNames, index)
            } else if name.contains("insur") || name.contains("insurer") {
                pooled = true
                text = Self.insurers.randomElement(using: &random)!
            } else if name.contains("surgeon") || name.contains("doctor") || name.contains("physician") || name == "dentist" {
                pooled = true
                text = "Dr. \(Self.firstNames.randomElement(using: &random)!) \(Self.lastNames.randomElement(using: &random)!)"
            } else if name == "product" || name.hasSuffix("_product") || name == "item" {
                text = Self.unique(Self.products, index)
            } else if name.contains("company") || name.contains("supplier") || name.contains("vendor") || name == "customer" {
                text = Self.unique(Self.lastNames.map { last in "\(last) \(Self.companySuffixes[last.count % Self.companySuffixes.count])" }, index)
            } else if name == "name" || name.hasSuffix("_name") || name == "title" {
                text = Self.unique(Self.titles, index)
            } else if name == "city" || name == "town" {
                pooled = true
                text = Self.cities.randomElement(using: &random)!
            } else if name == "country" {
                pooled = true
                text = Self.countries.randomElement(using: &random)!
            } else if name.contains("zip") || name.contains("postal") || name.contains("postcode") {
                pooled = true
                text = String(format: "%05d", Int.random(in: 1_000...99_999, using: &random))
            } else if name.contains("reason") || name.contains("complaint") {
                pooled = true
                text = Self.reasons.randomElement(using: &random)!
            } else if name.contains("diagnos") || name.contains("finding") {
                pooled = true
                text = Self.diagnoses.randomElement(using: &random)!
            } else if name.contains("note") || name.contains("comment") || name.contains("remark") || name.contains("description") {
                let pool = isClinical ? Self.clinicalNotes : Self.businessNotes
                let count = Int.random(in: 1...3, using: &random)
                pooled = true
                text = (0..<count).map { _ in pool.randomElement(using: &random)! }.joined(separator: " ")
            } else if name.contains("phone") {
                pooled = true
                text = "+49 \(Int.random(in: 30...89, using: &random)) \(Int.random(in: 1_000_000...9_999_999, using: &random))"
            } else if name.contains("address") {
                pooled = true
                text = "\(Self.places.randomElement(using: &random)!) \(Int.random(in: 1...120, using: &random)), \(Self.cities.randomElement(using: &random)!)"
            } else {
                let count = Int.random(in: 3...12, using: &random)
                let sentence = (0..<count).map { _ in Self.words.randomElement(using: &random)! }.joined(separator: " ")
                text = field.unique ? "\(sentence) \(index + 1)" : sentence
            }
            if pooled && field.unique { text += " \(index + 1)" }
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
        case .editor:
            let count = Int.random(in: 3...12, using: &random)
            let text = "<p>" + (0..<count).map { _ in Self.words.randomElement(using: &random)! }.joined(separator: " ") + "</p>"
            return .string(field.maxSize.map { String(text.utf8.prefix($0)) ?? "" } ?? text)
        case .geoPoint:
            return .object(["lon": .number((Double.random(in: -180...180, using: &random) * 1e5).rounded() / 1e5),
                            "lat": .number((Double.random(in: -90...90, using: &random) * 1e5).rounded() / 1e5)])
        case .autodate:
            return .null
        case .file:
            return .null
        }
    }

    /// Whether the collection holds patients' data (notes then read like a clinician's).
    private var isClinical: Bool {
        let names = [collection.name] + collection.fields.map(\.name) + collection.fields.compactMap(\.collection)
        return names.contains { $0.contains("patient") || $0.contains("consultation") || $0.contains("procedure") }
    }

    private func limit(_ text: String, _ field: Field) -> String {
        guard let max = field.max, text.count > Int(max) else { return text }
        return String(text.prefix(Int(max)))
    }
}
