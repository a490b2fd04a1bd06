import Foundation

/// A collection: a named set of records with typed fields, stored as a real SQLite table of the same
/// name with one typed column per field, plus the system columns `id`, `created` and `updated`.
public struct CollectionModel: Sendable, Equatable, Codable {
    /// A declared index over one or more fields. Written as PocketBase writes it, an SQL string
    /// (`CREATE [UNIQUE] INDEX name ON table (column [COLLATE c] [DESC], …) [WHERE …]`, see
    /// ``IndexStatement``), and read from that or from Burg's object form `{"name", "fields", "unique"}`.
    public struct Index: Sendable, Equatable, Codable {
        /// One column of the index, in order.
        public struct Column: Sendable, Equatable {
            public var name: String
            /// BINARY, NOCASE or RTRIM; nil: the column's own.
            public var collation: String?
            public var descending = false
            public init(name: String, collation: String? = nil, descending: Bool = false) {
                self.name = name
                self.collation = collation
                self.descending = descending
            }
        }

        public var name: String
        /// The columns' names, in order.
        public var fields: [String] {
            get { columns.map(\.name) }
            set { columns = newValue.map { Column(name: $0) } }
        }
        public var columns: [Column]
        public var unique: Bool = false
        /// A partial index's WHERE condition, as written (SQLite judges it when the index is built).
        public var condition: String?
        /// The table the string named after ON (the collection's current or, in a rename, former name).
        public var table: String?
        /// The string as sent, answered back verbatim as PocketBase does while it still names the table.
        public var sql: String?
        /// Why the string sent could not be read; ``CollectionModel/validate()`` refuses it with this.
        public var problem: String?

        public init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                do {
                    self = try IndexStatement.parse(text)
                } catch {
                    self.init(name: "", fields: [])
                    sql = text
                    problem = error.message
                }
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(name: try c.decode(String.self, forKey: .name), fields: try c.decode([String].self, forKey: .fields),
                      unique: try c.decodeIfPresent(Bool.self, forKey: .unique) ?? false)
        }

        private enum CodingKeys: String, CodingKey { case name, fields, unique }

        /// Written as the string it was sent as, or in PocketBase's normal form for ``table``.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(statement(table: table ?? ""))
        }

        /// The SQL string for this index on `table`: the one sent while it names that table, else the
        /// normal form (PocketBase rewrites an index this way when its collection is renamed).
        public func statement(table: String) -> String {
            if let sql, self.table?.lowercased() == table.lowercased() || table.isEmpty { return sql }
            return IndexStatement.render(self, table: table)
        }

        public init(name: String, fields: [String], unique: Bool = false) {
            self.name = name
            self.columns = fields.map { Column(name: $0) }
            self.unique = unique
        }
    }

    /// `base` holds plain records; `auth` records can sign in (see BurgAuth), PocketBase's two kinds.
    public enum Kind: String, Sendable, Codable { case base, auth }

    /// Access rules in the filter language: `nil` = superusers only, `""` = anyone, otherwise a filter
    /// that must match (`owner = @request.auth.id`). Enforced by the server, stored with the schema.
    public struct Rules: Sendable, Equatable {
        public var list: String?
        public var view: String?
        public var create: String?
        public var update: String?
        public var delete: String?
        public init(list: String? = nil, view: String? = nil, create: String? = nil, update: String? = nil, delete: String? = nil) {
            self.list = list
            self.view = view
            self.create = create
            self.update = update
            self.delete = delete
        }
        /// Everyone may do everything.
        public static let open = Rules(list: "", view: "", create: "", update: "", delete: "")
    }

    public var id: String
    public var name: String
    public var type: Kind = .base
    public var fields: [Field]
    public var indexes: [Index] = []
    public var rules = Rules()
    /// Created by Burg itself (`_superusers`); may have a name starting with `_` and cannot be deleted.
    public var system: Bool = false
    public var created: String = ""
    public var updated: String = ""

    public init(name: String, fields: [Field], indexes: [Index] = [], id: String? = nil, type: Kind = .base, rules: Rules = Rules()) {
        self.id = id ?? "pbc_" + RecordID.generate()
        self.name = name
        self.fields = fields
        self.indexes = indexes
        self.type = type
        self.rules = rules
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, type, fields, indexes, system, created, updated
        case listRule, viewRule, createRule, updateRule, deleteRule
    }

    /// Decodes PocketBase-shaped JSON: `name` is required; `type` defaults to `base`, `fields` and
    /// `indexes` to none, absent rules to `nil` (superusers only).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? "pbc_" + RecordID.generate()
        type = try c.decodeIfPresent(Kind.self, forKey: .type) ?? .base
        fields = try (c.decodeIfPresent([FieldEntry].self, forKey: .fields) ?? []).compactMap(\.field)
        indexes = try c.decodeIfPresent([Index].self, forKey: .indexes) ?? []
        rules = Rules(
            list: try c.decodeIfPresent(String.self, forKey: .listRule),
            view: try c.decodeIfPresent(String.self, forKey: .viewRule),
            create: try c.decodeIfPresent(String.self, forKey: .createRule),
            update: try c.decodeIfPresent(String.self, forKey: .updateRule),
            delete: try c.decodeIfPresent(String.self, forKey: .deleteRule))
        system = try c.decodeIfPresent(Bool.self, forKey: .system) ?? false
        created = try c.decodeIfPresent(String.self, forKey: .created) ?? ""
        updated = try c.decodeIfPresent(String.self, forKey: .updated) ?? ""
    }

    /// Encodes PocketBase's shape; a `nil` rule is written as `null`, as PocketBase does.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(type, forKey: .type)
        try c.encode([FieldEntry.system("id")] + fields.map(FieldEntry.field) + [.system("created"), .system("updated")], forKey: .fields)
        try c.encode(indexes.map { $0.statement(table: name) }, forKey: .indexes)
        try c.encode(rules.list, forKey: .listRule)
        try c.encode(rules.view, forKey: .viewRule)
        try c.encode(rules.create, forKey: .createRule)
        try c.encode(rules.update, forKey: .updateRule)
        try c.encode(rules.delete, forKey: .deleteRule)
        try c.encode(system, forKey: .system)
        try c.encode(created, forKey: .created)
        try c.encode(updated, forKey: .updated)
    }

    /// One entry of `fields` as PocketBase lists them: the collection's own fields, and the columns
    /// every Burg collection has — `id` (text, primary key) first, `created` and `updated` (autodate)
    /// last. Those three are listed for PocketBase's clients and skipped when read back: a definition
    /// that leaves them out still has them.
    enum FieldEntry: Codable {
        case field(Field)
        case system(String)

        var field: Field? { if case .field(let field) = self { field } else { nil } }

        private struct Head: Decodable {
            var name: String?
            var type: String?
        }

        init(from decoder: any Decoder) throws {
            let head = try Head(from: decoder)
            switch (head.name, head.type) {
            case ("id", "text"?), ("created", "autodate"?), ("updated", "autodate"?): self = .system(head.name ?? "")
            default: self = .field(try Field(from: decoder))
            }
        }

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .field(let field): try field.encode(to: encoder)
            case .system(let name):
                var c = encoder.singleValueContainer()
                // PocketBase's own ids for these fields, so a schema diff against PocketBase's is empty.
                let common: [String: JSONValue] = ["hidden": false, "name": .string(name), "presentable": false]
                switch name {
                case "id":
                    try c.encode(JSONValue.object(common.merging([
                        "id": "text3208210256", "type": "text", "system": true, "required": true, "primaryKey": true, "help": "",
                        "autogeneratePattern": "[a-z0-9]{15}", "min": 15, "max": 15, "pattern": "^[a-z0-9]+$",
                    ]) { $1 }))
                default:
                    try c.encode(JSONValue.object(common.merging([
                        "id": name == "created" ? "autodate2990389176" : "autodate3332085495", "type": "autodate", "system": false,
                        "onCreate": true, "onUpdate": .bool(name == "updated"),
                    ]) { $1 }))
                }
            }
        }
    }

    /// At most this many fields (SQLite's tables end at 2,000 columns; far past what a form needs).
    public static let maxFields = 1000
    /// The largest count a field option holds (maxSelect, a text's min and max characters).
    public static let maxCount = Int(Int32.max)
    /// Each access rule at most this long (the filter language's own limit).
    public static var maxRuleLength: Int { FilterParser.maxLength }

    /// Names of the columns every collection has.
    public static let systemFields = ["id", "created", "updated"]

    public func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// Checks names and options; throws the first problem found.
    public func validate() throws(SchemaError) {
        guard Self.isValidCollectionName(name), system || !name.hasPrefix("_"), !name.lowercased().hasPrefix("sqlite_") else {
            throw SchemaError(.invalidCollectionName, collection: name,
                message: name.isEmpty ? "a collection needs a name"
                    : "a collection name is 1–255 letters, digits or _, and starts neither with _ (Burg's own tables) nor with \"sqlite_\" (SQLite's)")
        }
        // The id names the collection's directory of files and its index tables: a plain name only.
        guard !id.isEmpty, id.utf8.count <= 64, id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }) else {
            throw SchemaError(.invalidName, collection: name, message: "a collection id is 1–64 letters, digits or _")
        }
        guard fields.count <= Self.maxFields else {
            throw SchemaError(.invalidOptions, collection: name,
                message: "has \(fields.count) fields; a collection has at most \(Self.maxFields)")
        }
        var seen = Set<String>()
        var seenIDs = Set<String>()
        for field in fields {
            guard Self.isValidName(field.name) else {
                throw SchemaError(.invalidName, collection: name, field: field.name,
                    message: "a field name is 1–63 letters, digits or _ and starts with a letter or _")
            }
            // rowid and its aliases name SQLite's row key, which the search index and listings rely on.
            guard !(Self.systemFields + ["rowid", "oid", "_rowid_"]).contains(field.name.lowercased()) else {
                throw SchemaError(.reservedName, collection: name, field: field.name, message: "\"\(field.name)\" is a system field")
            }
            guard seen.insert(field.name.lowercased()).inserted, seenIDs.insert(field.id).inserted else {
                throw SchemaError(.duplicateField, collection: name, field: field.name, message: "appears twice")
            }
            try validateOptions(field)
        }
        var indexNames = Set<String>()
        for (position, index) in indexes.enumerated() {
            func refuse(_ message: String) -> SchemaError {
                SchemaError(.invalidIndex, collection: name, field: String(position), message: message)
            }
            if let problem = index.problem { throw refuse(problem) }
            guard Self.isValidIndexName(index.name), !index.fields.isEmpty else {
                throw refuse("index \"\(index.name)\" needs a name of 1–100 letters, digits or _ and at least one field")
            }
            guard indexNames.insert(index.name.lowercased()).inserted else { throw refuse("index \"\(index.name)\" appears twice") }
            for fieldName in index.fields where field(named: fieldName) == nil && !Self.systemFields.contains(fieldName) {
                throw refuse("index \"\(index.name)\" names \"\(fieldName)\", which is not a field of \(name)")
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
        if let maxSelect = field.maxSelect, !(1...CollectionModel.maxCount).contains(maxSelect) {
            throw fail("maxSelect must be from 1 to \(CollectionModel.maxCount), not \(maxSelect)")
        }
        if let maxSize = field.maxSize, maxSize < 0 { throw fail("maxSize must be 0 or more bytes, not \(maxSize)") }
        // For texts (and the other string types) min and max count characters: whole numbers of a sane size.
        if field.type != .number {
            for (key, bound) in [("min", field.min), ("max", field.max)] {
                if let bound, !(bound.rounded() == bound && bound >= 0 && bound <= Double(CollectionModel.maxCount)) {
                    throw fail("\(key) counts characters: a whole number from 0 to \(CollectionModel.maxCount), not \(bound)")
                }
            }
        }
        if field.onlyDomains != nil || field.exceptDomains != nil {
            guard field.type == .email || field.type == .url else { throw fail("onlyDomains and exceptDomains apply to email and url fields only") }
            guard field.onlyDomains == nil || field.exceptDomains == nil else { throw fail("give onlyDomains or exceptDomains, not both") }
        }
        for (key, bound) in [("min", field.dateMin), ("max", field.dateMax)] {
            if let bound, RecordValidator.normaliseDate(bound) == nil { throw fail("\(key) \(bound) is not a date (YYYY-MM-DD HH:MM:SS.sssZ)") }
        }
        if let low = field.dateMin.flatMap(RecordValidator.normaliseDate), let high = field.dateMax.flatMap(RecordValidator.normaliseDate), low > high {
            throw fail("min \(low) is after max \(high)")
        }
        if let minSelect = field.minSelect, let maxSelect = field.maxSelect, minSelect > maxSelect {
            throw fail("minSelect \(minSelect) is above maxSelect \(maxSelect)")
        }
        if let generated = field.autogeneratePattern {
            guard field.type == .text else { throw fail("autogeneratePattern applies to text fields only") }
            do { _ = try AutogeneratePattern(generated) } catch { throw fail(error.message) }
        }
        switch field.type {
        case .autodate:
            guard field.onCreate || field.onUpdate else { throw fail("an autodate field needs onCreate or onUpdate (or both)") }
            guard !field.required && !field.unique else { throw fail("an autodate field is set by the store; it cannot be required or unique") }
        case .select:
            guard let values = field.values, !values.isEmpty else { throw fail("a select field needs its values") }
        case .relation:
            let byName = field.collection.map(Self.isValidCollectionName) ?? false
            let byID = field.collectionId.map { !$0.isEmpty && $0.utf8.count <= 255 } ?? false
            guard byName || byID else {
                throw fail("a relation field needs the collection it refers to: its id as \"collectionId\" (or its name as \"collection\")")
            }
        default: break
        }
        if field.searchable && field.type != .text { throw fail("only text fields can be searchable") }
    }

    /// A collection name as PocketBase accepts it: 1–255 of `[A-Za-z0-9_]`, a digit first too (its table
    /// name is always quoted). ``validate()`` keeps `_` and `sqlite_` first for Burg's and SQLite's tables.
    static func isValidCollectionName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        return name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// PocketBase's index names (`idx_tokenKey_pbc_123…`) are letters, digits and `_`.
    static func isValidIndexName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 100 && name.utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F
        }
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
        // Random bytes a word at a time (each draw from the system generator is a system call), mapped
        // without bias: bytes of 252 and above (252 = 7 × 36) are skipped.
        var generator = SystemRandomNumberGenerator()
        var id: [UInt8] = []
        id.reserveCapacity(15)
        while id.count < 15 {
            var word = generator.next()
            for _ in 0..<8 where id.count < 15 {
                let byte = UInt8(truncatingIfNeeded: word)
                word >>= 8
                if byte < 252 { id.append(alphabet[Int(byte % 36)]) }
            }
        }
        return String(decoding: id, as: UTF8.self)
    }

    public static func isValid(_ id: String) -> Bool {
        id.utf8.count == 15 && id.utf8.allSatisfy { alphabet.contains($0) }
    }
}
