/// The type of a collection field. Each maps to a typed SQLite column (see ``Field/columnDefinition``).
public enum FieldType: String, Sendable, Codable, CaseIterable {
    case text, number, bool, email, url, date, select, json, relation, file
    /// A date the store sets itself when a record is created (`onCreate`) and/or updated (`onUpdate`);
    /// what a client sends for it is ignored.
    case autodate
    /// Rich text (HTML) as a string, limited by `maxSize` bytes.
    case editor
    /// `{"lon": …, "lat": …}` in degrees, `{"lon": 0, "lat": 0}` when unset.
    case geoPoint
}

/// A field of a collection: its name, type and constraints. Encoded in PocketBase's shape
/// (`{"id", "name", "type", "required", …type options}`) so collections round-trip through the API.
public struct Field: Sendable, Equatable, Codable {
    /// Stable identity: a rename keeps the id, which is how a schema change tells a rename from drop+add.
    public var id: String
    public var name: String
    public var type: FieldType
    public var required: Bool = false
    /// Unique across the collection (a UNIQUE index). Empty values are exempt.
    public var unique: Bool = false
    /// text/email/url: min/max length in characters; number: min/max value; select/relation/file: ignored.
    public var min: Double?
    public var max: Double?
    /// text: a regular expression every non-empty value must match.
    public var pattern: String?
    /// number: only integers.
    public var onlyInt: Bool = false
    /// select: the allowed values.
    public var values: [String]?
    /// select/relation/file: how many values one record may hold; above 1 the field is multi-valued.
    public var maxSelect: Int?
    /// relation: the name of the collection referred to (kept in step with ``collectionId`` when that
    /// collection is renamed).
    public var collection: String?
    /// relation: the id of the collection referred to, as PocketBase, its SDKs and exported schemas name
    /// it. Either this or ``collection`` is enough when a collection is stored (a name is accepted here
    /// too); the registry then fills in both.
    public var collectionId: String?
    /// file: largest accepted size in bytes, and accepted MIME types (empty: any).
    public var maxSize: Int?
    public var mimeTypes: [String]?
    /// file: served only with a short-lived file token (`POST /api/files/token`) to callers the
    /// collection's view rule admits; unprotected files are served to anyone who knows their URL (whose
    /// stored name carries 10 random characters), as in PocketBase.
    public var protected: Bool = false
    /// text: served by a full-text (trigram) index for `~`.
    public var searchable: Bool = false
    /// Never part of a record's JSON, nor usable in filters by non-superusers (an auth record's
    /// `password` hash and `tokenKey`).
    public var hidden: Bool = false
    /// Part of what makes the collection work (an auth collection's `email`, `password`, …): it cannot
    /// be removed or renamed.
    public var system: Bool = false
    /// PocketBase's dashboard options, kept and answered: a hint under the input, and whether the
    /// field names a record in relation pickers.
    public var help: String = ""
    public var presentable: Bool = false
    /// email/url: accepted domains (empty: any) and refused ones.
    public var onlyDomains: [String]?
    public var exceptDomains: [String]?
    /// date: the earliest and latest accepted dates (PocketBase's date text); nil: no bound.
    public var dateMin: String?
    public var dateMax: String?
    /// autodate: set when a record is created, updated.
    public var onCreate: Bool = false
    public var onUpdate: Bool = false
    /// file: thumbnail sizes PocketBase's dashboard offers (Burg serves the original for any `thumb`).
    public var thumbs: [String]?
    /// relation: at least this many records (multi-valued relations).
    public var minSelect: Int?
    /// text: the value a record created without one gets (``AutogeneratePattern``).
    public var autogeneratePattern: String?
    /// editor: whether the dashboard's editor rewrites URLs (kept for it; no effect on storage).
    public var convertURLs: Bool = false

    public init(id: String? = nil, name: String, type: FieldType) {
        self.id = id ?? "f_" + name
        self.name = name
        self.type = type
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, type, required, unique, min, max, pattern, onlyInt, values, maxSelect, collection, collectionId, maxSize, mimeTypes, protected, searchable, hidden, system
        case help, presentable, onlyDomains, exceptDomains, onCreate, onUpdate, thumbs, minSelect, convertURLs, cascadeDelete, autogeneratePattern, primaryKey, cost
    }

    /// Decodes PocketBase-shaped JSON: only `name` and `type` are required; `id` defaults to `f_<name>`.
    /// PocketBase's "no limit" values (`0` for a text's min/max, a select's maxSelect, a size; `""` for a
    /// date bound or pattern) read as no limit.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        system = try c.decodeIfPresent(Bool.self, forKey: .system) ?? false
        if try c.decode(String.self, forKey: .type) == "password" {
            // PocketBase's type for an auth collection's own `password`, whose bcrypt hash Burg keeps in a
            // text column (BurgAuth hashes it); a password field of one's own would store plain text.
            guard system, name == "password" else {
                throw FieldOptionError(field: name, message: "password fields are supported only as an auth collection's own password field; use an auth collection")
            }
            type = .text
        } else {
            type = try c.decode(FieldType.self, forKey: .type)
        }
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? "f_" + name
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        unique = try c.decodeIfPresent(Bool.self, forKey: .unique) ?? false
        func positive<T: Decodable & Numeric & Comparable>(_ key: CodingKeys, _: T.Type) throws -> T? {
            guard let value = try c.decodeIfPresent(T.self, forKey: key) else { return nil }
            return value == 0 ? nil : value
        }
        if type == .date {
            dateMin = try c.decodeIfPresent(String.self, forKey: .min).flatMap { $0.isEmpty ? nil : $0 }
            dateMax = try c.decodeIfPresent(String.self, forKey: .max).flatMap { $0.isEmpty ? nil : $0 }
        } else if type == .number {
            min = try c.decodeIfPresent(Double.self, forKey: .min)
            max = try c.decodeIfPresent(Double.self, forKey: .max)
        } else {
            min = try positive(.min, Double.self)
            max = try positive(.max, Double.self)
        }
        pattern = try c.decodeIfPresent(String.self, forKey: .pattern).flatMap { $0.isEmpty ? nil : $0 }
        onlyInt = try c.decodeIfPresent(Bool.self, forKey: .onlyInt) ?? false
        values = try c.decodeIfPresent([String].self, forKey: .values)
        maxSelect = try positive(.maxSelect, Int.self)
        collection = try c.decodeIfPresent(String.self, forKey: .collection)
        collectionId = try c.decodeIfPresent(String.self, forKey: .collectionId)
        maxSize = try positive(.maxSize, Int.self)
        mimeTypes = try c.decodeIfPresent([String].self, forKey: .mimeTypes)
        protected = try c.decodeIfPresent(Bool.self, forKey: .protected) ?? false
        searchable = try c.decodeIfPresent(Bool.self, forKey: .searchable) ?? false
        hidden = try c.decodeIfPresent(Bool.self, forKey: .hidden) ?? false
        help = try c.decodeIfPresent(String.self, forKey: .help) ?? ""
        presentable = try c.decodeIfPresent(Bool.self, forKey: .presentable) ?? false
        onlyDomains = try c.decodeIfPresent([String].self, forKey: .onlyDomains).flatMap { $0.isEmpty ? nil : $0 }
        exceptDomains = try c.decodeIfPresent([String].self, forKey: .exceptDomains).flatMap { $0.isEmpty ? nil : $0 }
        onCreate = try c.decodeIfPresent(Bool.self, forKey: .onCreate) ?? false
        onUpdate = try c.decodeIfPresent(Bool.self, forKey: .onUpdate) ?? false
        thumbs = try c.decodeIfPresent([String].self, forKey: .thumbs).flatMap { $0.isEmpty ? nil : $0 }
        minSelect = try positive(.minSelect, Int.self)
        convertURLs = try c.decodeIfPresent(Bool.self, forKey: .convertURLs) ?? false
        // Options Burg does not implement yet are refused rather than stored and silently ignored.
        if try c.decodeIfPresent(Bool.self, forKey: .cascadeDelete) == true {
            throw FieldOptionError(field: name, message: "cascadeDelete is not supported yet: delete the referring records first (or leave it false)")
        }
        // An auth collection's tokenKey has one in PocketBase's schema; Burg generates its keys itself.
        if !system { autogeneratePattern = try c.decodeIfPresent(String.self, forKey: .autogeneratePattern).flatMap { $0.isEmpty ? nil : $0 } }
    }

    /// PocketBase's shape for the type: exactly its keys (alphabetical in its answers; JSON key order
    /// carries no meaning), plus Burg's own options only where they are set.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(hidden, forKey: .hidden)
        try c.encode(presentable, forKey: .presentable)
        try c.encode(system, forKey: .system)
        if type != .autodate {
            try c.encode(help, forKey: .help)
            try c.encode(required, forKey: .required)
        }
        func count(_ value: Double?) -> Int { value.map { Int($0) } ?? 0 }
        if system && hidden && name == "password" && type == .text {
            // An auth collection's password, as PocketBase answers it (Burg's column holds the hash).
            try c.encode("password", forKey: .type)
            try c.encode(0, forKey: .cost)
            try c.encode(0, forKey: .max)
            try c.encode(count(min), forKey: .min)
            try c.encode("", forKey: .pattern)
            return
        }
        try c.encode(type, forKey: .type)
        switch type {
        case .text:
            try c.encode(autogeneratePattern ?? "", forKey: .autogeneratePattern)
            try c.encode(count(max), forKey: .max)
            try c.encode(count(min), forKey: .min)
            try c.encode(pattern ?? "", forKey: .pattern)
            try c.encode(false, forKey: .primaryKey)
        case .number:
            try c.encode(max, forKey: .max)
            try c.encode(min, forKey: .min)
            try c.encode(onlyInt, forKey: .onlyInt)
        case .email, .url:
            try c.encode(exceptDomains ?? [], forKey: .exceptDomains)
            try c.encode(onlyDomains ?? [], forKey: .onlyDomains)
            // Burg's length bounds on emails and URLs, only when set.
            if let min { try c.encode(count(min), forKey: .min) }
            if let max { try c.encode(count(max), forKey: .max) }
        case .date:
            try c.encode(dateMax ?? "", forKey: .max)
            try c.encode(dateMin ?? "", forKey: .min)
        case .autodate:
            try c.encode(onCreate, forKey: .onCreate)
            try c.encode(onUpdate, forKey: .onUpdate)
        case .select:
            try c.encode(maxSelect ?? 1, forKey: .maxSelect)
            try c.encode(values ?? [], forKey: .values)
        case .file:
            try c.encode(maxSelect ?? 1, forKey: .maxSelect)
            try c.encode(maxSize ?? 0, forKey: .maxSize)
            try c.encode(mimeTypes ?? [], forKey: .mimeTypes)
            try c.encode(protected, forKey: .protected)
            try c.encode(thumbs ?? [], forKey: .thumbs)
        case .relation:
            try c.encode(false, forKey: .cascadeDelete)
            try c.encode(collectionId, forKey: .collectionId)
            try c.encode(maxSelect ?? 1, forKey: .maxSelect)
            try c.encode(minSelect ?? 0, forKey: .minSelect)
            // Burg's name of the target, kept in step with collectionId.
            try c.encodeIfPresent(collection, forKey: .collection)
        case .json:
            try c.encode(maxSize ?? 0, forKey: .maxSize)
        case .editor:
            try c.encode(convertURLs, forKey: .convertURLs)
            try c.encode(maxSize ?? 0, forKey: .maxSize)
        case .bool, .geoPoint:
            break
        }
        if unique { try c.encode(true, forKey: .unique) }
        if searchable { try c.encode(true, forKey: .searchable) }
    }

    /// Whether the column holds JSON text (read back parsed): multi-valued fields, json and geoPoint.
    public var storesJSON: Bool { isMultiple || type == .json || type == .geoPoint }

    /// Multi-valued fields are stored as a JSON array.
    public var isMultiple: Bool {
        switch type {
        case .select, .relation, .file: return (maxSelect ?? 1) > 1
        default: return false
        }
    }

    /// The SQLite column: typed, NOT NULL with an empty default where PocketBase returns "" / 0 / false
    /// for unset values, so that filters compare plain values.
    var columnDefinition: String {
        let column = quoteIdentifier(name)
        if isMultiple { return "\(column) TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(\(column)))" }
        switch type {
        case .text, .email, .url, .date, .select, .relation, .file, .autodate, .editor:
            return "\(column) TEXT NOT NULL DEFAULT ''"
        case .geoPoint:
            return "\(column) TEXT NOT NULL DEFAULT '{\"lon\":0,\"lat\":0}' CHECK (json_valid(\(column)))"
        case .number:
            return "\(column) REAL NOT NULL DEFAULT 0"
        case .bool:
            return "\(column) INTEGER NOT NULL DEFAULT 0 CHECK (\(column) IN (0, 1))"
        case .json:
            return "\(column) TEXT CHECK (\(column) IS NULL OR json_valid(\(column)))"
        }
    }
}

/// `"name"` with embedded quotes doubled. Only ever applied to names that passed ``SchemaError`` checks.
func quoteIdentifier(_ name: String) -> String {
    // Names rarely hold a quote; the check is cheaper than Foundation's replacing (a hot path).
    guard name.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + name + "\"" }
    return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// A field definition whose options cannot be read (an option Burg does not support yet).
public struct FieldOptionError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "field \"\(field)\": \(message)" }
}
