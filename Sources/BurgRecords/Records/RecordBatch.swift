import BurgStore
internal import GRDB

/// One write of a batch (PocketBase's `POST /api/batch`).
public enum RecordBatchOperation: Sendable, Equatable {
    case create(collection: String, values: [String: JSONValue])
    case update(collection: String, id: String, values: [String: JSONValue])
    /// Update when `values["id"]` names an existing record, else create (with that id, if given).
    case upsert(collection: String, values: [String: JSONValue])
    case delete(collection: String, id: String)

    public var collection: String {
        switch self {
        case .create(let collection, _), .update(let collection, _, _), .upsert(let collection, _), .delete(let collection, _): collection
        }
    }
}

/// What one operation of a committed batch did: the record written (nil for a delete).
public struct RecordBatchResult: Sendable {
    public var collection: CollectionModel
    public var record: RecordModel?
}

/// Why a batch was not committed: the operation at `index` failed with `underlying`; nothing of the
/// batch was written.
public struct RecordBatchError: Error, Sendable, CustomStringConvertible {
    public var index: Int
    public var underlying: any Error
    public var description: String { "batch operation \(index) failed, so none was saved: \(underlying)" }
}

/// Decides the access check for one operation (as ``AccessPolicy`` does for a single request); the
/// values are the operation's body, for `@request.body` rules. Throwing refuses the operation.
public typealias RecordBatchAccess = @Sendable (RecordAction, CollectionModel, [String: JSONValue]) throws -> RecordAccess?

extension RecordStore {
    /// Runs `operations` in one write transaction, in order, each with the access check `access` gives
    /// it and each seeing the writes before it: all of them are committed, or (the first failure
    /// thrown as ``RecordBatchError``) none. Auth collections are refused (their passwords are hashed
    /// by BurgAuth outside a transaction); files are removed after the commit.
    public func batch(_ operations: [RecordBatchOperation], access: @escaping RecordBatchAccess) async throws -> [RecordBatchResult] {
        let results = try await store.groupedWrite { db -> [RecordBatchResult] in
            var results: [RecordBatchResult] = []
            results.reserveCapacity(operations.count)
            for (index, operation) in operations.enumerated() {
                do {
                    results.append(try self.apply(operation, db, access: access))
                } catch {
                    throw RecordBatchError(index: index, underlying: error)
                }
            }
            return results
        }
        for (operation, result) in zip(operations, results) {
            if case .delete(_, let id) = operation, RecordID.isValid(id) { files.removeRecord(collectionId: result.collection.id, recordId: id) }
        }
        return results
    }

    private func apply(_ operation: RecordBatchOperation, _ db: StoreTransaction, access: @escaping RecordBatchAccess) throws -> RecordBatchResult {
        func judged(_ action: RecordAction, _ values: [String: JSONValue]) -> (CollectionModel) throws -> RecordAccess? {
            { collection in
                guard collection.type != .auth else {
                    throw RecordError(code: .invalidQuery, collection: collection.name,
                                      message: "records of auth collections cannot be written in a batch yet; send that request on its own")
                }
                return try access(action, collection, values)
            }
        }
        switch operation {
        case .create(let name, let values):
            let (collection, record) = try inserted(db.sqlite, name, values, id: nil, access: judged(.create, values), saved: false)
            return RecordBatchResult(collection: collection, record: record)
        case .update(let name, let id, let values):
            try Self.refuseFileChanges(values, try CollectionRegistry.load(db.sqlite, name))
            let (collection, record) = try changed(db, name, id: id, values, access: judged(.update, values))
            return RecordBatchResult(collection: collection, record: record)
        case .upsert(let name, let values):
            let target = try CollectionRegistry.load(db.sqlite, name)
            if case .string(let id)? = values["id"], !id.isEmpty,
               try Int.fetchOne(db.sqlite, sql: "SELECT 1 FROM \(quoteIdentifier(target.name)) WHERE \"id\" = ?", arguments: [id]) != nil {
                var changes = values
                changes["id"] = nil
                try Self.refuseFileChanges(changes, target)
                let (collection, record) = try changed(db, name, id: id, changes, access: judged(.update, changes))
                return RecordBatchResult(collection: collection, record: record)
            }
            let (collection, record) = try inserted(db.sqlite, name, values, id: nil, access: judged(.create, values), saved: false)
            return RecordBatchResult(collection: collection, record: record)
        case .delete(let name, let id):
            let collection = try deleted(db, name, id: id, access: judged(.delete, [:]))
            return RecordBatchResult(collection: collection, record: nil)
        }
    }

    /// A batch carries JSON only, and a file field's stored files are removed only by a single update:
    /// a batch update leaves file fields out (a value equal to what is stored would be fine, but a
    /// batch cannot tell without reading it).
    static func refuseFileChanges(_ values: [String: JSONValue], _ collection: CollectionModel) throws {
        for field in collection.fields where field.type == .file {
            if values[field.name] != nil {
                throw RecordValidationError(collection: collection.name, fields: [
                    field.name: FieldError("validation_invalid_value", "Files cannot be changed in a batch yet; send that update on its own."),
                ])
            }
        }
    }
}
