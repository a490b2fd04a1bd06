import BurgRecords

/// Who a request acts for: an auth record whose token was verified.
public struct AuthIdentity: Sendable, Equatable {
    public var collectionId: String
    public var collectionName: String
    public var recordId: String
    /// A record of `_superusers`: allowed everything, rules do not apply.
    public var isSuperuser: Bool
    /// The auth record as it is now (hidden fields excluded).
    public var record: RecordModel

    /// `@request.auth.*` for the filter language: `id`, `collectionId`, `collectionName` and every
    /// non-hidden field of the record (multi-valued and JSON fields as their JSON text).
    public var filterValues: [[String]: FilterValue] {
        var values: [[String]: FilterValue] = [
            ["auth", "id"]: .string(recordId),
            ["auth", "collectionId"]: .string(collectionId),
            ["auth", "collectionName"]: .string(collectionName),
        ]
        for (name, value) in record.values {
            switch value {
            case .null: values[["auth", name]] = .null
            case .bool(let flag): values[["auth", name]] = .bool(flag)
            case .number(let number):
                values[["auth", name]] = number.rounded() == number && abs(number) < 1e15 ? .integer(Int64(number)) : .double(number)
            case .string(let text): values[["auth", name]] = .string(text)
            case .array, .object: values[["auth", name]] = .string(value.description)
            }
        }
        return values
    }
}

/// A successful sign-in or refresh: PocketBase's `{"token", "record"}`.
public struct AuthResult: Sendable {
    public var token: String
    public var record: RecordModel
    public var identity: AuthIdentity
}

extension RecordCaller {
    /// The caller a verified identity is — or a guest, without one — as ``AccessPolicy`` judges it.
    public init(_ identity: AuthIdentity?) {
        guard let identity else { self = .guest; return }
        self.init(isSuperuser: identity.isSuperuser,
                  context: FilterContext(request: identity.filterValues,
                                         viewer: identity.isSuperuser ? .administrator : .client(authId: identity.recordId)),
                  authId: identity.recordId, authCollectionId: identity.collectionId)
    }
}
