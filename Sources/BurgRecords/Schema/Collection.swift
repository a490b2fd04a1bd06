import Foundation

/// A collection: a named set of records with typed fields, stored as a real SQLite table of the same
/// name with one typed column per field, plus the system columns `id`, `created` and `updated`.
public struct Collection: Sendable, Equatable, Codable {
    /// A declared index over one or more fields.
    public struct Index: Sendable, Equatable, Codable {
        public var name: String
        public var fields: [String]
        public var unique: Bool = false

        private enum CodingKeys: String, CodingKey { case name, fields, unique }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            fields = try c.decode([String].self, forKey: .fields)
            unique = try c.decodeIfPresent(Bool.self, forKey: .unique) ?? false
        }
        public init(name: String, fields: [String], unique: Bool = false) {
            self.name = name
            self.fields = fields
            self.unique = unique
        }
    }

    public var id: String
    public var name: String
    public var fields: [Field]
    public var indexes: [Index] = []
    public var created: String = ""
    public var updated: String = ""

    public init(name: String, fields: [Field], indexes: [Index] = [], id: String? = nil) {
        self.id = id ?? "pbc_" + RecordID.generate()
        self.name = name
        self.fields = fields
        self.indexes = indexes
    }

    private enum CodingKeys: String, CodingKey { case id, name, fields, indexes, created, updated }

    /// Decodes PocketBase-shaped JSON: `name` is required; `fields` and `indexes` default to none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? "pbc_" + RecordID.generate()
        fields = try c.decodeIfPresent([Field].self, forKey: .fields) ?? []
        indexes = try c.decodeIfPresent([Index].self, forKey: .indexes) ?? []
        created = try c.decodeIfPresent(String.self, forKey: .created) ?? ""
        updated = try c.decodeIfPresent(String.self, forKey: .updated) ?? ""
    }

    /// Names of the columns every collection has.
    public static let systemFields = ["id", "created", "updated"]

    public func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// Checks names and options; throws the first problem found.
    public func validate() throws(SchemaError) {
        guard Self.isValidName(name), !name.hasPrefix("_"), !name.lowercased().hasPrefix("sqlite_") else {
            throw SchemaError(.invalidName, collection: name,
                message: "a collection name is 1–63 letters, digits or _, starts with a letter, and not with \"sqlite_\"")
        }
        var seen = Set<String>()
        var seenIDs = Set<String>()
        for field in fields {
            guard Self.isValidName(field.name) else {
                throw SchemaError(.invalidName, collection: name, field: field.name,
                    message: "a field name is 1–63 letters, digits or _ and starts with a letter or _")
            }
            guard !Self.systemFields.contains(field.name.lowercased()) else {
                throw SchemaError(.reservedName, collection: name, field: field.name, message: "\"\(field.name)\" is a system field")
            }
            guard seen.insert(field.name.lowercased()).inserted, seenIDs.insert(field.id).inserted else {
                throw SchemaError(.duplicateField, collection: name, field: field.name, message: "appears twice")
            }
            try validateOptions(field)
        }
        for index in indexes {
            guard Self.isValidName(index.name), !index.fields.isEmpty else {
                throw SchemaError(.invalidName, collection: name, message: "index \"\(index.name)\" needs a valid name and at least one field")
            }
            for fieldName in index.fields where field(named: fieldName) == nil && !Self.systemFields.contains(fieldName) {
                throw SchemaError(.invalidOptions, collection: name, field: fieldName, message: "index \"\(index.name)\" names an unknown field")
            }
        }
    }

    private func validateOptions(_ field: Field) throws(SchemaError) {
        func fail(_ message: String) -> SchemaError {
            SchemaError(.invalidOptions, collection: name, field: field.name, message: message)
        }
        if let min = field.min, let max = field.max, min > max { throw fail("min \(min) is above max \(max)") }
        if let pattern = field.pattern, (try? NSRegularExpression(pattern: pattern)) == nil {
            throw fail("pattern \(pattern) is not a valid regular expression")
        }
        if let maxSelect = field.maxSelect, maxSelect < 1 { throw fail("maxSelect must be at least 1") }
        switch field.type {
        case .select:
            guard let values = field.values, !values.isEmpty else { throw fail("a select field needs its values") }
        case .relation:
            guard let target = field.collection, Self.isValidName(target) else {
                throw fail("a relation field needs the name of the collection it refers to")
            }
        default: break
        }
        if field.searchable && field.type != .text { throw fail("only text fields can be searchable") }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63 else { return false }
        let isLetter = { (c: Unicode.Scalar) in (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") }
        guard isLetter(first) || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { isLetter($0) || ($0 >= "0" && $0 <= "9") || $0 == "_" }
    }
}

/// Record ids: 15 characters of `[a-z0-9]`, random (PocketBase's format).
public enum RecordID {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<15).map { _ in alphabet.randomElement(using: &generator)! }, as: UTF8.self)
    }

    public static func isValid(_ id: String) -> Bool {
        id.utf8.count == 15 && id.utf8.allSatisfy { alphabet.contains($0) }
    }
}
