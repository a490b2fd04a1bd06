import BurgStore
import Foundation
internal import GRDB

/// What ``CollectionRegistry/importAll(_:deleteMissing:force:keeping:)`` did.
public struct CollectionImportSummary: Sendable, Equatable {
    public var created: [String] = []
    public var updated: [String] = []
    /// Deleted (into the trash) because the import did not list them: name and trash id.
    public var deleted: [TrashedCollectionName] = []
}

public struct TrashedCollectionName: Sendable, Equatable {
    public var name: String
    public var trashId: String
}

extension CollectionRegistry {
    /// PocketBase's collections import, in one transaction: each definition updates the collection
    /// with its id (or, failing that, its name) or creates it, in the order given (a relation may name
    /// a collection earlier in the list); with `deleteMissing`, every other collection goes to the trash
    /// — never a system collection nor one named in `keeping`. Any failure changes nothing. Changes
    /// that would lose data are refused unless `force`, as for ``update(_:to:force:)``.
    @available(*, noasync, message: "blocks its thread: run it through BlockingWork")
    @discardableResult
    public func importAll(
        _ collections: [CollectionModel], deleteMissing: Bool, force: Bool = false, keeping: Set<String> = []
    ) throws -> CollectionImportSummary {
        for collection in collections { try collection.validate() }
        try purgeTrash()
        var summary = CollectionImportSummary()
        let removals = try store.write { db -> [(CollectionModel, String?)] in
            summary = CollectionImportSummary()
            let existing = try Self.all(db.sqlite)
            var listed = Set<String>()
            for collection in collections {
                let match = existing.first { $0.id == collection.id }
                    ?? existing.first { $0.name.lowercased() == collection.name.lowercased() }
                if let match {
                    let updated = try Self.changed(db.sqlite, match.name, to: collection, force: force)
                    listed.insert(updated.id)
                    summary.updated.append(updated.name)
                } else {
                    let created = try Self.inserted(db.sqlite, collection)
                    listed.insert(created.id)
                    summary.created.append(created.name)
                }
            }
            guard deleteMissing else { return [] }
            let keep = Set(keeping.map { $0.lowercased() })
            var pending = existing.filter { !listed.contains($0.id) && !$0.system && !keep.contains($0.name.lowercased()) }
            var removals: [(CollectionModel, String?)] = []
            // Those no remaining collection refers to first, so a set of collections that refer to each
            // other in a chain goes whole; a relation from a collection that stays refuses as in `delete`.
            while !pending.isEmpty {
                let remaining = try Self.all(db.sqlite)
                guard let next = pending.firstIndex(where: { candidate in
                    !remaining.contains { other in
                        other.id != candidate.id && other.fields.contains { $0.type == .relation && $0.collection?.lowercased() == candidate.name.lowercased() }
                    }
                }) else {
                    removals.append(try Self.removed(db.sqlite, pending[0].name, purge: false))
                    pending.removeFirst()
                    continue
                }
                removals.append(try Self.removed(db.sqlite, pending[next].name, purge: false))
                pending.remove(at: next)
            }
            summary.deleted = removals.map { TrashedCollectionName(name: $0.0.name, trashId: $0.1 ?? "") }
            return removals
        }
        for (collection, trashId) in removals { afterRemoval(collection, trashId: trashId) }
        return summary
    }

    /// Deletes every record of the collection (PocketBase's truncate), in one transaction, then their
    /// files. A system collection (`_superusers`) is refused. Realtime subscribers get no event per
    /// record. Returns how many records were deleted.
    @available(*, noasync, message: "blocks its thread: run it through BlockingWork")
    @discardableResult
    public func truncate(_ name: String) throws -> Int {
        let (collection, count) = try store.write { db -> (CollectionModel, Int) in
            let collection = try Self.load(db.sqlite, name)
            guard !collection.system else {
                throw SchemaError(.protected, collection: collection.name, message: "is a system collection Burg needs; it cannot be truncated")
            }
            let table = quoteIdentifier(collection.name)
            let count = try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            try db.sqlite.execute(sql: "DELETE FROM \(table)")
            return (collection, count)
        }
        // After the commit (a crash in between leaves orphans, which `burg files check` reports).
        try? FileManager.default.removeItem(atPath: FileStorage(dataDirectory: store.configuration.dataDirectory).root.appending(collection.id).string)
        return count
    }
}
