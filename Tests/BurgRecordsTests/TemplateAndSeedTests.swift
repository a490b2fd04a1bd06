import BurgCore
import BurgRecords
import BurgTestSupport
import Foundation
import Testing

/// `burg init --template`, `burg seed`: the templates' collections exist whole or not at all, and seeded
/// data is valid, related, unique past the name pools and reproducible from a seed.
@Suite struct TemplateAndSeedTests {
    @Test(arguments: CollectionTemplate.allCases)
    func aTemplateCreatesItsCollectionsWholeOrNotAtAll(template: CollectionTemplate) throws {
        let fixture = try RecordsFixture()
        let created = try fixture.collections.createAll(template.collections)
        #expect(Set(try fixture.collections.list().map(\.name)).isSuperset(of: created.map(\.name)))
        // A second time: the first collection exists, so nothing more is created.
        let before = try fixture.collections.list()
        #expect(throws: SchemaError.self) { try fixture.collections.createAll(template.collections) }
        #expect(try fixture.collections.list() == before)
        // A template whose last collection clashes leaves none of the others behind.
        let other = try RecordsFixture()
        try other.collections.create(CollectionModel(name: template.collections.last!.name, fields: []))
        #expect(throws: SchemaError.self) { try other.collections.createAll(template.collections) }
        #expect(try other.collections.list().count == 1)
    }

    @Test func seededRecordsAreValidRelatedUniqueAndReproducible() throws {
        func seeded(_ seed: UInt64) throws -> (RecordsFixture, [[String: JSONValue]]) {
            let fixture = try RecordsFixture()
            try fixture.collections.createAll(CollectionTemplate.clinic.collections)
            try RecordSeeder(store: fixture.store).seed("patients", count: 1_500, seed: seed, batchSize: 400)
            try RecordSeeder(store: fixture.store).seed("consultations", count: 300, seed: seed)
            var values: [[String: JSONValue]] = []
            try RecordExporter(store: fixture.store).export("patients", format: .ndjson) { line in
                guard case .object(var object) = try JSONValue.parse(line) else { return }
                object["created"] = nil
                object["updated"] = nil
                values.append(object)
            }
            return (fixture, values)
        }
        let (fixture, first) = try seeded(42)
        let (_, again) = try seeded(42)
        let (_, other) = try seeded(43)
        #expect(first.count == 1_500)
        #expect(first == again)
        #expect(first != other)
        // Past the pools of 25 first and 23 last names, names still differ (a counter is appended).
        let lastNames = first.compactMap { if case .string(let name)? = $0["last_name"] { name } else { nil } }
        #expect(Set(lastNames).count == 1_500)
        #expect(lastNames.contains("Adler 2"))
        let numbers = Set(first.compactMap { $0["patient_number"]?.jsonText })
        #expect(numbers.count == 1_500)
        // Every record passes validation; every consultation refers to an existing patient.
        #expect(try RecordBatchValidator(store: fixture.store).validateStored("patients").valid == 1_500)
        var query = ListQuery()
        query.perPage = 500
        query.filter = "patient.id = null"  // a dangling relation finds no patient
        #expect(try fixture.records.list("consultations", query).totalItems == 0)
        // Seeding again continues the unique numbering instead of colliding.
        try RecordSeeder(store: fixture.store).seed("patients", count: 100, seed: 42)
        #expect(try fixture.records.list("patients", ListQuery()).totalItems == 1_600)
    }

    @Test func seedingRefusesWhatItCannotGenerate() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.createAll(CollectionTemplate.clinic.collections)
        // Consultations need patients.
        let error = #expect(throws: SeedError.self) { try RecordSeeder(store: fixture.store).seed("consultations", count: 5) }
        #expect(error?.field == "patient" && error?.message.contains("seed it first") == true)
        var code = Field(name: "code", type: .text)
        code.pattern = "^X-[0-9]{3}$"
        code.required = true
        try fixture.collections.create(CollectionModel(name: "narrow", fields: [code]))
        #expect(throws: SeedError.self) { try RecordSeeder(store: fixture.store).seed("narrow", count: 5) }
        #expect(try fixture.records.list("narrow", ListQuery()).totalItems == 0)
    }

    @Test func initAndSeedFromTheCommandLine() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        let initRun = try ChildProcess.burg("init", "--template", "erp", "--encrypt-files", "--data-dir", data)
        #expect(try initRun.wait() == 0, "\(initRun.standardError)")
        let key = try FileManager.default.attributesOfItem(atPath: dir.path("data/files.key").string)
        #expect((key[.posixPermissions] as? Int) == 0o600)
        for (collection, count) in [("customer_groups", "20"), ("storage_locations", "10"), ("production_orders", "500")] {
            let seed = try ChildProcess.burg("seed", collection, "--count", count, "--seed", "7", "--data-dir", data)
            #expect(try seed.wait() == 0, "\(seed.standardError)")
        }
        let list = try ChildProcess.burg("records", "list", "production_orders", "--filter", "status = 'planned' && customer_group.discount_percent >= 0", "--json", "--data-dir", data)
        #expect(try list.wait() == 0, "\(list.standardError)")
        let again = try ChildProcess.burg("init", "--template", "erp", "--data-dir", data)
        #expect(try again.wait() != 0)
        #expect(again.standardError.contains("already exists"))
        let unknown = try ChildProcess.burg("init", "--template", "bakery", "--data-dir", data)
        #expect(try unknown.wait() == ExitStatus.usage)
    }
}
