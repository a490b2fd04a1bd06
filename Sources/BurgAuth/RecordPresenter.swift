import BurgRecords

/// A record as a caller may see it. An auth record's `email` is shown only to the record itself, to
/// superusers, or when the record chose `emailVisibility` (PocketBase's rule); every other field as
/// stored (hidden fields never leave the store).
public enum RecordPresenter {
    public static func present(_ record: RecordModel, _ collection: CollectionModel, for caller: RecordCaller) -> JSONValue {
        guard collection.type == .auth, case .object(var object) = record.json else { return record.json }
        let own = caller.authId == record.id && caller.authCollectionId == collection.id
        if !own && !caller.isSuperuser && record.values["emailVisibility"] != .bool(true) {
            object["email"] = nil
        }
        return .object(object)
    }

    /// An expanded record with its `"expand"` object (PocketBase's shape): each relation field's related
    /// records the caller may view — an array for a multi-valued relation, the record for a single one
    /// (left out when it is hidden or gone).
    public static func present(_ expanded: ExpandedRecord, for caller: RecordCaller) -> JSONValue {
        let base = present(expanded.record, expanded.collection, for: caller)
        guard let relations = expanded.expand, case .object(var object) = base else { return base }
        var expand: [String: JSONValue] = [:]
        for (name, related) in relations {
            let values = related.map { present($0, for: caller) }
            if expanded.collection.field(named: name)?.isMultiple == true {
                expand[name] = .array(values)
            } else if let first = values.first {
                expand[name] = first
            }
        }
        object["expand"] = .object(expand)
        return .object(object)
    }
}
