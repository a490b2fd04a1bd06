/// Who a record operation is for: a superuser skips every rule; anyone else — a signed-in record or a
/// guest — is held to the collection's rule for the action, whose `@request.*` values come from here.
public struct RecordCaller: Sendable {
    public var isSuperuser: Bool
    /// `@request.auth.*`, `@request.body.*` and who reads emails (``FilterContext/viewer``).
    public var context: FilterContext
    /// The signed-in record and its collection's id; "" for a guest (and for a superuser of the CLI).
    public var authId: String
    public var authCollectionId: String

    public init(isSuperuser: Bool, context: FilterContext, authId: String = "", authCollectionId: String = "") {
        self.isSuperuser = isSuperuser
        self.context = context
        self.authId = authId
        self.authCollectionId = authCollectionId
    }

    /// Someone who is not signed in. Their `@request.auth.id` is "" (as in PocketBase), so a rule
    /// `@request.auth.id != ''` means "signed in" — with NULL, `IS NOT ''` would hold for guests too.
    public static let guest = RecordCaller(
        isSuperuser: false,
        context: FilterContext(request: [["auth", "id"]: .string(""), ["auth", "collectionId"]: .string(""),
                                         ["auth", "collectionName"]: .string("")],
                               viewer: .client(authId: "")))

    /// This caller with `@request.body.<key>` set from a create's or update's body, as the rules of
    /// those actions read it: scalars as themselves, arrays and objects as their JSON text.
    public func with(body: [String: JSONValue]) -> RecordCaller {
        var caller = self
        for (key, value) in body {
            let filterValue: FilterValue = switch value {
            case .string(let text): .string(text)
            case .number(let number): number.rounded() == number && abs(number) < 1e15 ? .integer(Int64(number)) : .double(number)
            case .bool(let flag): .bool(flag)
            case .null: .null
            case .array, .object: .string(value.jsonText)
            }
            caller.context.request[["body", key]] = filterValue
        }
        return caller
    }
}

/// What a caller does to a collection's records. Expanding a relation, a realtime record event of a
/// `c/<id>` topic and a protected file are views of the record concerned; a `c/*` realtime event is a
/// listing.
public enum RecordAction: String, Sendable, CaseIterable {
    case list, view, create, update, delete
}

/// The answer of ``AccessPolicy``.
public enum AccessDecision: Sendable {
    /// No rule to check: a superuser, or an empty rule (anyone).
    case unrestricted
    /// Only records matching this rule, compiled with the caller's `@request.*` values.
    case matching(RecordAccess)
    /// The rule is unset (`nil`): the action is for superusers only.
    case superusersOnly

    /// The access check to run, nil for none; throws `.superusersOnly` (a 403) for an action the caller
    /// may not take at all — for the routes, where asking is an error.
    public func required(in collection: CollectionModel) throws(RecordError) -> RecordAccess? {
        switch self {
        case .unrestricted: return nil
        case .matching(let access): return access
        case .superusersOnly:
            throw RecordError(code: .superusersOnly, collection: collection.name,
                              message: "only superusers can perform this action")
        }
    }
}

/// The one place that decides whether a caller may take an action on a collection's records, and under
/// which condition. Every path — the records routes, expand, realtime, files — asks it, so a rule means
/// the same everywhere.
public enum AccessPolicy {
    public static func decide(_ action: RecordAction, on collection: CollectionModel, for caller: RecordCaller) -> AccessDecision {
        if caller.isSuperuser { return .unrestricted }
        let rule: String? = switch action {
        case .list: collection.rules.list
        case .view: collection.rules.view
        case .create: collection.rules.create
        case .update: collection.rules.update
        case .delete: collection.rules.delete
        }
        guard let rule else { return .superusersOnly }
        return rule.isEmpty ? .unrestricted : .matching(RecordAccess(rule: rule, context: caller.context))
    }
}
