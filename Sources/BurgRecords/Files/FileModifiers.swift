/// PocketBase's file-field modifiers of a create or update: uploads under `name` replace the field's
/// files, under `name+` they are added, and `name-` lists stored names to remove. Resolved against the
/// record as it is, they become the list of stored names the field keeps (the new uploads are added by
/// the store as it saves them).
public struct FileModifiers: Sendable, Equatable {
    /// File fields whose uploads replace the current files (sent without `+`).
    public var replacing: Set<String> = []
    /// Stored names to remove, per file field (`name-`).
    public var removals: [String: [String]] = [:]

    public init() {}

    /// Takes a body key that is a removal (`name-` of a file field) and returns true; false for any
    /// other key, which the caller keeps as a value.
    public mutating func takeRemoval(_ key: String, _ value: JSONValue, in collection: CollectionModel) -> Bool {
        guard key.hasSuffix("-"), let field = collection.field(named: String(key.dropLast())), field.type == .file else { return false }
        removals[field.name, default: []] += Self.storedNames(value)
        return true
    }

    /// `values` with each modified file field set to the stored names it keeps: `existing`'s names
    /// (or the ones `values` names) without the removed ones, none when the field's files are replaced.
    public func resolve(_ values: [String: JSONValue], existing: RecordModel, collection: CollectionModel) -> [String: JSONValue] {
        var values = values
        for field in collection.fields where field.type == .file {
            let current = Self.storedNames(values[field.name] ?? existing.values[field.name])
            var keep = current
            if let removed = removals[field.name] { keep.removeAll { removed.contains($0) } }
            if replacing.contains(field.name), values[field.name] == nil { keep = [] }
            if keep != current || removals[field.name] != nil || replacing.contains(field.name) {
                values[field.name] = field.isMultiple ? .array(keep.map(JSONValue.string)) : .string(keep.first ?? "")
            }
        }
        return values
    }

    /// The stored names a file field's value holds.
    public static func storedNames(_ value: JSONValue?) -> [String] { JSONValue.names(in: value) }
}
