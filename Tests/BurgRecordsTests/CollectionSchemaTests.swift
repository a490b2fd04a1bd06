import BurgCore
import BurgRecords
import BurgStore
import BurgTestSupport
import Foundation
import GRDB
import Testing

/// A store in a fresh temp dir with the records migrations.
struct RecordsFixture {
    let dir: TemporaryDirectory
    let store: Store
    let collections: CollectionRegistry
    let records: RecordStore

    init() throws {
        dir = try TemporaryDirectory()
        store = try Store(StoreConfiguration(dataDirectory: dir.path), migrations: .store + CollectionRegistry.migrations)
        collections = CollectionRegistry(store: store)
        records = RecordStore(store: store)
    }

    func columns(_ table: String) throws -> [String: String] {
        try store.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db.sqlite, sql: "SELECT name, type FROM pragma_table_info(?)", arguments: [table])
                .map { ($0["name"] as String, $0["type"] as String) })
        }
    }

    static func patients() -> CollectionModel {
        var number = Field(name: "patient_number", type: .text)
        number.required = true
        number.unique = true
        number.pattern = "^P[0-9]+$"
        var name = Field(name: "name", type: .text)
        name.required = true
        name.max = 40
        var email = Field(name: "email", type: .email)
        email.required = false
        var sex = Field(name: "sex", type: .select)
        sex.values = ["f", "m", "x"]
        var born = Field(name: "born", type: .date)
        born.required = false
        var visits = Field(name: "visits", type: .number)
        visits.min = 0
        visits.onlyInt = true
        let consent = Field(name: "consent", type: .bool)
        var tags = Field(name: "tags", type: .select)
        tags.values = ["vip", "new", "allergy"]
        tags.maxSelect = 3
        let notes = Field(name: "notes", type: .json)
        return CollectionModel(name: "patients", fields: [number, name, email, sex, born, visits, consent, tags, notes])
    }
}

@Suite struct CollectionSchemaTests {
    @Test func aCollectionIsARealTableWithTypedColumns() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let columns = try fixture.columns("patients")
        #expect(columns["id"] == "TEXT")
        #expect(columns["name"] == "TEXT")
        #expect(columns["visits"] == "REAL")
        #expect(columns["consent"] == "INTEGER")
        #expect(columns.count == 12)
        let indexes = try fixture.store.read { db in
            try String.fetchAll(db.sqlite, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'patients' AND sql IS NOT NULL")
        }
        #expect(indexes.contains { $0.contains("UNIQUE") && $0.contains("\"patient_number\"") })
        #expect(try fixture.collections.get("PATIENTS").name == "patients")  // names are case-insensitive
    }

    @Test(arguments: [
        (CollectionModel(name: "nine lives", fields: []), SchemaError.Code.invalidCollectionName),
        (CollectionModel(name: "_secret", fields: []), .invalidCollectionName),
        (CollectionModel(name: "sqlite_x", fields: []), .invalidCollectionName),
        (CollectionModel(name: "a\"; DROP TABLE x; --", fields: []), .invalidCollectionName),
        (CollectionModel(name: String(repeating: "a", count: 256), fields: []), .invalidCollectionName),
        (CollectionModel(name: "t", fields: [Field(name: "id", type: .text)]), .reservedName),
        (CollectionModel(name: "t", fields: [Field(name: "a", type: .text), Field(id: "other", name: "A", type: .number)]), .duplicateField),
        (CollectionModel(name: "t", fields: [Field(name: "s", type: .select)]), .invalidOptions),
        (CollectionModel(name: "t", fields: [Field(name: "r", type: .relation)]), .invalidOptions),
    ])
    func invalidDefinitionsAreRefusedAndCreateNothing(_ collection: CollectionModel, _ code: SchemaError.Code) throws {
        let fixture = try RecordsFixture()
        let error = #expect(throws: SchemaError.self) { try fixture.collections.create(collection) }
        #expect(error?.code == code)
        let tables = try fixture.store.read { db in try String.fetchAll(db.sqlite, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'") }
        #expect(tables.isEmpty)
    }

    @Test func aRelationToAMissingCollectionIsRefused() throws {
        let fixture = try RecordsFixture()
        var relation = Field(name: "customer", type: .relation)
        relation.collection = "customers"
        let error = #expect(throws: SchemaError.self) { try fixture.collections.create(CollectionModel(name: "orders", fields: [relation])) }
        #expect(error?.message.contains("does not exist") == true)
    }

    /// PocketBase names a relation's target by `collectionId` (its SDKs and exported schemas do); the
    /// registry accepts it, or a name in it, or Burg's `collection` name, and stores both. A rename of
    /// the target keeps the relation working; an unknown or contradictory target is refused.
    @Test func aSystemFieldIsNeverDroppedEvenWithForce() throws {
        let fixture = try RecordsFixture()
        var key = Field(name: "key", type: .text)
        key.system = true
        let created = try fixture.collections.create(CollectionModel(name: "keys", fields: [key, Field(name: "note", type: .text)]))
        var without = created
        without.fields.removeAll { $0.name == "key" }
        #expect(throws: SchemaError.self) { try fixture.collections.update("keys", to: without, force: true) }
        // Nothing changed: the column and its definition are still there.
        #expect(try fixture.collections.get("keys").fields.map(\.name) == ["key", "note"])
        _ = try fixture.records.create("keys", ["key": .string("k1")])
    }

    @Test func relationsNameTheirTargetByCollectionIdAndFollowItsRenames() throws {
        let fixture = try RecordsFixture()
        let authors = try fixture.collections.create(CollectionModel(name: "authors", fields: [Field(name: "name", type: .text)]))
        var author = Field(name: "author", type: .relation)
        author.collectionId = authors.id
        let posts = try fixture.collections.create(CollectionModel(name: "posts", fields: [Field(name: "title", type: .text), author]))
        let stored = try #require(posts.fields.first { $0.name == "author" })
        #expect(stored.collectionId == authors.id && stored.collection == "authors")
        var byName = Field(name: "editor", type: .relation)
        byName.collectionId = "AUTHORS"  // a name in collectionId, any case
        let notes = try fixture.collections.create(CollectionModel(name: "notes", fields: [byName]))
        #expect(notes.fields[0].collectionId == authors.id && notes.fields[0].collection == "authors")
        // A self-relation by the collection's own id, given before it exists.
        var parent = Field(name: "parent", type: .relation)
        var tree = CollectionModel(name: "tree", fields: [parent])
        parent.collectionId = tree.id
        tree.fields = [parent]
        #expect(try fixture.collections.create(tree).fields[0].collection == "tree")

        let ada = try fixture.records.create("authors", ["name": "Ada"])
        try fixture.records.create("posts", ["title": "hello", "author": .string(ada.id)])
        // The target renamed: the relation follows it, for filters and for expand.
        var renamed = try fixture.collections.get("authors")
        renamed.name = "writers"
        try fixture.collections.update("authors", to: renamed)
        let afterRename = try fixture.collections.get("posts")
        let followed = try #require(afterRename.fields.first { $0.name == "author" })
        #expect(followed.collectionId == authors.id && followed.collection == "writers")
        var query = ListQuery()
        query.filter = "author.name = 'Ada'"
        let listed = try fixture.records.list("posts", query)
        #expect(listed.items.map { $0.values["title"] } == [.string("hello")])
        let expanded = try fixture.records.expand(listed.items, in: afterRename, paths: ExpandPaths("author", collection: "posts"), for: RecordCaller(isSuperuser: true, context: FilterContext()))
        #expect(expanded.first?.expand?["author"]?.first?.record.values["name"] == .string("Ada"))

        // Unknown, and contradictory: refused naming the field and the reference; nothing is created.
        var unknown = Field(name: "author", type: .relation)
        unknown.collectionId = "pbc_nosuchcollect"
        let missing = #expect(throws: SchemaError.self) { try fixture.collections.create(CollectionModel(name: "drafts", fields: [unknown])) }
        #expect(missing?.field == "author" && missing?.message.contains("pbc_nosuchcollect") == true, "\(String(describing: missing))")
        var contradictory = Field(name: "author", type: .relation)
        contradictory.collectionId = authors.id
        contradictory.collection = "notes"
        let mismatch = #expect(throws: SchemaError.self) { try fixture.collections.create(CollectionModel(name: "drafts", fields: [contradictory])) }
        #expect(mismatch?.message.contains("collectionId") == true, "\(String(describing: mismatch))")
        #expect(try fixture.collections.list().map(\.name).contains("drafts") == false)
        // Neither given: refused before anything is looked up.
        #expect(throws: SchemaError.self) { try fixture.collections.create(CollectionModel(name: "drafts", fields: [Field(name: "author", type: .relation)])) }
    }

    @Test func schemaChangesOnAPopulatedCollectionKeepEveryValue() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        var created: [RecordModel] = []
        for index in 0..<50 {
            created.append(try fixture.records.create("patients", [
                "patient_number": .string("P\(index)"), "name": .string("Name \(index)"), "visits": .number(Double(index)),
                "tags": .array([.string("vip")]), "notes": .object(["n": .number(Double(index))]),
            ]))
        }
        var changed = RecordsFixture.patients()
        changed.fields[1].name = "full_name"  // rename: same id
        changed.fields.append(Field(name: "insurance", type: .text))  // add
        changed.indexes = [CollectionModel.Index(name: "by_visits", fields: ["visits"])]
        try fixture.collections.update("patients", to: changed)

        let page = try fixture.records.list("patients", { var q = ListQuery(); q.perPage = 500; return q }())
        #expect(page.totalItems == 50)
        for record in created {
            let now = try fixture.records.get("patients", id: record.id)
            #expect(now.values["full_name"] == record.values["name"])
            #expect(now.values["visits"] == record.values["visits"])
            #expect(now.values["tags"] == record.values["tags"])
            #expect(now.values["notes"] == record.values["notes"])
            #expect(now.values["insurance"] == .string(""))
            #expect(now.values["name"] == nil)
        }
        #expect(try fixture.columns("patients")["full_name"] == "TEXT")
    }

    @Test func changesThatWouldLoseDataAreRefusedUnlessForced() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let record = try fixture.records.create("patients", ["patient_number": "P1", "name": "Ann", "email": "ann@example.com"])
        let before = try fixture.collections.get("patients")

        var dropEmail = before
        dropEmail.fields.removeAll { $0.name == "email" }
        let error = #expect(throws: SchemaError.self) { try fixture.collections.update("patients", to: dropEmail) }
        #expect(error?.code == .wouldLoseData)
        #expect(error?.field == "email")
        #expect(try fixture.collections.get("patients") == before)  // nothing changed
        #expect(try fixture.records.get("patients", id: record.id).values["email"] == "ann@example.com")

        var retype = before
        retype.fields[1].type = .number  // name "Ann" is not a number
        #expect(throws: SchemaError.self) { try fixture.collections.update("patients", to: retype) }
        #expect(try fixture.records.get("patients", id: record.id).values["name"] == "Ann")

        // A lossless retype goes through: visits (number) → text keeps "0".
        var lossless = before
        lossless.fields[5].type = .text
        lossless.fields[5].min = nil
        try fixture.collections.update("patients", to: lossless)
        #expect(try fixture.records.get("patients", id: record.id).values["visits"] == "0")

        try fixture.collections.update("patients", to: { var c = try fixture.collections.get("patients"); c.fields.removeAll { $0.name == "email" }; return c }(), force: true)
        #expect(try fixture.records.get("patients", id: record.id).values["email"] == nil)
    }

    @Test func deletingAReferencedCollectionIsRefusedAndOneWithRecordsGoesToTheTrash() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(CollectionModel(name: "customers", fields: [Field(name: "name", type: .text)]))
        var relation = Field(name: "customer", type: .relation)
        relation.collection = "customers"
        try fixture.collections.create(CollectionModel(name: "orders", fields: [relation]))
        try fixture.records.create("customers", ["name": "ACME"])

        let referenced = #expect(throws: SchemaError.self) { try fixture.collections.delete("customers") }
        #expect(referenced?.code == .referenced)
        try fixture.collections.delete("orders", purge: true)
        #expect(try fixture.collections.delete("customers") != nil)
        #expect(try fixture.collections.list().isEmpty)
        #expect(try fixture.collections.trash().map(\.collection.name) == ["customers"])
    }
}


/// Deleting a collection moves it to the trash: its records, indexes, search index and files come
/// back whole with `restore`; a name taken meanwhile blocks the restore; old entries are purged.
@Suite struct CollectionTrashTests {
    @Test func aDeletedCollectionComesBackWholeAndOldTrashIsPurged() throws {
        let fixture = try RecordsFixture()
        var title = Field(name: "title", type: .text)
        title.searchable = true
        title.unique = true
        try fixture.collections.create(CollectionModel(name: "notes", fields: [title]))
        let note = try fixture.records.create("notes", ["title": "needle in a haystack"])
        try fixture.records.create("notes", ["title": "plain"])
        let files = FileStorage(dataDirectory: fixture.dir.path).root
        let collectionID = try fixture.collections.get("notes").id
        let fileDirectory = files.appending(collectionID).appending(note.id)
        try FileManager.default.createDirectory(atPath: fileDirectory.string, withIntermediateDirectories: true)
        try AtomicFile.write(Array("attached".utf8), to: fileDirectory.appending("a.txt"))

        let trashId = try #require(try fixture.collections.delete("notes"))
        #expect(throws: SchemaError.self) { try fixture.collections.get("notes") }
        #expect(!FileManager.default.fileExists(atPath: fileDirectory.string))
        #expect(try fixture.collections.trash().map(\.records) == [2])
        // The name and the id are free meanwhile (the trashed table's indexes, whose names carry the
        // id, are rebuilt only on restore); while they are taken, the restore is refused.
        var other = Field(name: "other", type: .text)
        other.unique = true
        try fixture.collections.create(CollectionModel(name: "notes", fields: [other], id: collectionID))
        let taken = #expect(throws: SchemaError.self) { try fixture.collections.restore("notes") }
        #expect(taken?.code == .collectionExists)
        try fixture.collections.delete("notes", purge: true)

        let restored = try fixture.collections.restore(trashId)
        #expect(restored.id == collectionID)
        var query = ListQuery()
        query.filter = "title ~ 'needle'"
        #expect(try fixture.records.list("notes", query).items.map(\.id) == [note.id])
        #expect(throws: RecordValidationError.self) { try fixture.records.create("notes", ["title": "plain"]) }  // unique index kept
        #expect(try AtomicFile.read(fileDirectory.appending("a.txt")) == Array("attached".utf8))
        #expect(try fixture.collections.trash().isEmpty)

        // Purged after its retention: table dropped, files gone.
        let again = try #require(try fixture.collections.delete("notes"))
        #expect(try fixture.collections.purgeTrash(olderThan: .seconds(3600)).isEmpty)
        #expect(try fixture.collections.purgeTrash(olderThan: .zero).map(\.trashId) == [again])
        let tables = try fixture.store.read { db in try String.fetchAll(db.sqlite, sql: "SELECT name FROM sqlite_master WHERE name LIKE '_trash_%'") }
        #expect(tables.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: files.appending(".trash").appending(again).string))
        #expect(throws: SchemaError.self) { try fixture.collections.restore("notes") }
    }
}
