import BurgCore
import BurgStore
import Foundation
internal import GRDB
import SystemPackage

/// What `burg files check` found.
public struct FileCheckReport: Sendable, Equatable, Encodable {
    /// Stored files (paths under `storage/`) that no record names: left by a crash between a file's
    /// write and its record's commit, or by a forced schema change.
    public var orphans: [String] = []
    /// Orphans younger than the grace period: possibly an upload whose record is being committed right
    /// now, so never deleted.
    public var recent: [String] = []
    /// Files records name that are not on disk (`collection/recordId/name`).
    public var missing: [String] = []
    /// Files that failed to decrypt or read back (with `verify`).
    public var damaged: [String] = []
    public var deleted: [String] = []
    public var filesChecked = 0
    public var leftoversRemoved = 0

    public var isClean: Bool { orphans.count == deleted.count && missing.isEmpty && damaged.isEmpty }
}

/// Compares the files under `<data dir>/storage` with the records that name them. Safe while Burg runs.
public struct FileCheck: Sendable {
    public let store: Store
    public var gracePeriod: Duration = .seconds(600)

    public init(store: Store) {
        self.store = store
    }

    public func run(deleteOrphans: Bool = false, verify: Bool = false) throws -> FileCheckReport {
        let storage = FileStorage(dataDirectory: store.configuration.dataDirectory)
        let keyring = try FileKeyring.load(store.configuration.dataDirectory)
        let collections = try CollectionRegistry(store: store).list()
        let byID = Dictionary(collections.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var report = FileCheckReport()
        let manager = FileManager.default
        let now = Date()

        func list(_ path: FilePath) -> [String] { ((try? manager.contentsOfDirectory(atPath: path.string)) ?? []).sorted() }
        func orphan(_ path: FilePath, relative: String) {
            let modified = (try? manager.attributesOfItem(atPath: path.string)[.modificationDate] as? Date) ?? now
            if now.timeIntervalSince(modified) < gracePeriod.seconds {
                report.recent.append(relative)
                return
            }
            report.orphans.append(relative)
            if deleteOrphans, (try? manager.removeItem(atPath: path.string)) != nil { report.deleted.append(relative) }
        }

        // On disk → records.
        // `.trash` holds deleted collections' files until they are restored or purged: not orphans.
        for collectionID in list(storage.root) where !collectionID.hasPrefix(".") {
            let collectionDirectory = storage.root.appending(collectionID)
            let collection = byID[collectionID]
            for recordID in list(collectionDirectory) {
                let recordDirectory = collectionDirectory.appending(recordID)
                report.leftoversRemoved += AtomicFile.removeLeftovers(inDirectory: recordDirectory)
                var named = Set<String>()
                if let collection, RecordID.isValid(recordID),
                   let record = try? RecordStore(store: store).get(collection.name, id: recordID) {
                    for field in collection.fields where field.type == .file {
                        named.formUnion(RecordStore.fileNames(record.values[field.name]))
                    }
                }
                for file in list(recordDirectory) {
                    report.filesChecked += 1
                    let name = file.hasSuffix(FileStorage.encryptedSuffix) ? String(file.dropLast(FileStorage.encryptedSuffix.count)) : file
                    if !named.contains(name) { orphan(recordDirectory.appending(file), relative: "\(collectionID)/\(recordID)/\(file)") }
                }
                if deleteOrphans { _ = rmdir(recordDirectory.string) }
            }
            if deleteOrphans { _ = rmdir(collectionDirectory.string) }
        }

        // Records → on disk.
        for collection in collections where collection.fields.contains(where: { $0.type == .file }) {
            let fileFields = collection.fields.filter { $0.type == .file }
            let columns = (["\"id\""] + fileFields.map { quoteIdentifier($0.name) }).joined(separator: ", ")
            let rows = try store.read { db in
                try Row.fetchAll(db.sqlite, sql: "SELECT \(columns) FROM \(quoteIdentifier(collection.name)) WHERE \(fileFields.map { "\(quoteIdentifier($0.name)) NOT IN ('', '[]')" }.joined(separator: " OR "))")
            }
            for row in rows {
                let recordID: String = row["id"]
                for field in fileFields {
                    let stored: String = row[field.name] ?? ""
                    let value = field.isMultiple ? (try? JSONValue.parse(stored)) : .string(stored)
                    for name in RecordStore.fileNames(value) {
                        let place = "\(collection.name)/\(recordID)/\(name)"
                        do {
                            if verify {
                                try storage.read(collectionId: collection.id, recordId: recordID, name: name, keyring: keyring) { _ in }
                            } else {
                                let directory = storage.directory(collectionId: collection.id, recordId: recordID)
                                guard manager.fileExists(atPath: directory.appending(name).string)
                                    || manager.fileExists(atPath: directory.appending(name + FileStorage.encryptedSuffix).string)
                                else { throw FileError(.notFound, path: place, "missing") }
                            }
                        } catch let error as FileError where error.code == .notFound {
                            report.missing.append(place)
                        } catch {
                            report.damaged.append("\(place): \(error)")
                        }
                    }
                }
            }
        }
        return report
    }
}
