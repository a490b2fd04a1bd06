import BurgCore

/// Why a collection could not be created, changed or deleted. The database is unchanged when this is thrown.
public struct SchemaError: CodedError, Equatable {
    public enum Code: String, Sendable, CaseIterable {
        case invalidName = "schema_invalid_name"
        /// The collection's own name: empty, or not 1–255 letters, digits and `_`.
        case invalidCollectionName = "schema_invalid_collection_name"
        case duplicateField = "schema_duplicate_field"
        case reservedName = "schema_reserved_name"
        case invalidOptions = "schema_invalid_options"
        case collectionExists = "schema_collection_exists"
        case collectionMissing = "schema_collection_missing"
        case wouldLoseData = "schema_would_lose_data"
        case referenced = "schema_referenced"
        /// A collection Burg itself needs (`_superusers`, the default `users`): it cannot be deleted.
        case protected = "schema_protected"
        /// A collection id already taken by another collection.
        case idTaken = "schema_id_taken"
        /// An access rule that does not parse or names an unknown field.
        case invalidRule = "schema_invalid_rule"
        /// An index that does not parse, names an unknown field or that SQLite cannot build; ``field``
        /// holds its position in `indexes`.
        case invalidIndex = "schema_invalid_index"
    }

    public var code: Code
    /// The collection concerned.
    public var collection: String
    /// The field concerned, if any.
    public var field: String?
    public var message: String

    public init(_ code: Code, collection: String, field: String? = nil, message: String) {
        self.code = code
        self.collection = collection
        self.field = field
        self.message = message
    }

    public var description: String {
        let subject = code == .invalidIndex
            ? "collection \"\(collection)\", indexes[\(field ?? "?")]"
            : field.map { "field \"\($0)\" of collection \"\(collection)\"" } ?? "collection \"\(collection)\""
        return "\(subject): \(message)"
    }

    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .collectionMissing: ExitStatus.noInput
        case .collectionExists, .idTaken: ExitStatus.cantCreate
        case .wouldLoseData, .referenced, .protected: ExitStatus.dataError
        default: ExitStatus.usage
        }
    }
}
