/// The type of a collection field. Each maps to a typed SQLite column (see ``Field/columnDefinition``).
public enum FieldType: String, Sendable, Codable, CaseIterable {
    case text, number, bool, email, url, date, select, json, relation, file
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

    public init(id: String? = nil, name: String, type: FieldType) {
        self.id = id ?? "f_" + name
        self.name = name
        self.type = type
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, type, required, unique, min, max, pattern, onlyInt, values, maxSelect, collection, collectionId, maxSize, mimeTypes, protected, searchable, hidden, system
    }

    /// Decodes PocketBase-shaped JSON: only `name` and `type` are required; `id` defaults to `f_<name>`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decode(FieldType.self, forKey: .type)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? "f_" + name
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        unique = try c.decodeIfPresent(Bool.self, forKey: .unique) ?? false
        min = try c.decodeIfPresent(Double.self, forKey: .min)
        max = try c.decodeIfPresent(Double.self, forKey: .max)
        pattern = try c.decodeIfPresent(String.self, forKey: .pattern)
        onlyInt = try c.decodeIfPresent(Bool.self, forKey: .onlyInt) ?? false
        values = try c.decodeIfPresent([String].self, forKey: .values)
        maxSelect = try c.decodeIfPresent(Int.self, forKey: .maxSelect)
        collection = try c.decodeIfPresent(String.self, forKey: .collection)
        collectionId = try c.decodeIfPresent(String.self, forKey: .collectionId)
        maxSize = try c.decodeIfPresent(Int.self, forKey: .maxSize)
        mimeTypes = try c.decodeIfPresent([String].self, forKey: .mimeTypes)
        protected = try c.decodeIfPresent(Bool.self, forKey: .protected) ?? false
        searchable = try c.decodeIfPresent(Bool.self, forKey: .searchable) ?? false
        hidden = try c.decodeIfPresent(Bool.self, forKey: .hidden) ?? false
        system = try c.decodeIfPresent(Bool.self, forKey: .system) ?? false
    }

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
        case .text, .email, .url, .date, .select, .relation, .file:
            return "\(column) TEXT NOT NULL DEFAULT ''"
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
