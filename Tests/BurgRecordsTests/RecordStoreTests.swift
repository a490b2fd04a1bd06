import BurgRecords
import BurgStore
import Foundation
import GRDB
import Testing

@Suite struct RecordStoreTests {
    @Test func validationReportsEveryFieldErrorAtOnceAndStoresNothing() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let error = #expect(throws: RecordValidationError.self) {
            try fixture.records.create("patients", [
                "patient_number": "X1", "email": "not-an-email", "sex": "q", "visits": .number(1.5),
                "tags": .array(["vip", "new", "allergy", "vip2"]), "born": "31/12/2020", "unknown": "x",
            ])
        }
        #expect(error?.fields["name"]?.code == "validation_required")
        #expect(error?.fields["patient_number"]?.code == "validation_invalid_format")
        #expect(error?.fields["email"]?.code == "validation_invalid_email")
        #expect(error?.fields["sex"]?.code == "validation_invalid_value")
        #expect(error?.fields["visits"]?.code == "validation_only_int_constraint")
        #expect(error?.fields["tags"]?.code == "validation_too_many_values")
        #expect(error?.fields["born"]?.code == "validation_invalid_date")
        // A key that names no field is dropped, as PocketBase's API does (imports still refuse it).
        #expect(error?.fields["unknown"] == nil)
        #expect(try fixture.records.list("patients", ListQuery()).totalItems == 0)
    }

    /// The server's create: the rule is picked from the collection inside the write. A refusal thrown
    /// there, a rule the record fails, or bad values store nothing; an allowed create answers the record
    /// as stored, with the collection it read.
    @Test func aCreateThatPicksItsRuleFromTheCollectionStoresOnlyWhatItAllows() async throws {
        struct Refused: Error {}
        let fixture = try RecordsFixture()
        try await fixture.collections.create(RecordsFixture.patients())
        await #expect(throws: Refused.self) {
            _ = try await fixture.records.create("patients", ["patient_number": "P1", "name": "Ann"]) { _ in throw Refused() }
        }
        let onlyBob = RecordAccess(rule: "name = 'Bob'", context: FilterContext())
        await #expect(throws: BurgRecords.RecordError.self) {
            _ = try await fixture.records.create("patients", ["patient_number": "P2", "name": "Ann"]) { _ in onlyBob }
        }
        await #expect(throws: RecordValidationError.self) {
            _ = try await fixture.records.create("patients", ["patient_number": "P3"]) { _ in nil }
        }
        let (collection, created) = try await fixture.records.create("patients", ["patient_number": "P4", "name": "Bob"]) { collection in
            collection.name == "patients" ? onlyBob : nil
        }
        #expect(collection.name == "patients")
        #expect(try await fixture.records.get("patients", id: created.id) == created)
        #expect(try await fixture.records.list("patients", ListQuery()).totalItems == 1)
    }

    @Test func aDuplicateUniqueValueIsAFieldErrorNotACrash() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        try fixture.records.create("patients", ["patient_number": "P1", "name": "Ann"])
        let error = #expect(throws: RecordValidationError.self) {
            try fixture.records.create("patients", ["patient_number": "P1", "name": "Bob"])
        }
        #expect(error?.fields["patient_number"]?.code == "validation_not_unique")
        #expect(try fixture.records.list("patients", ListQuery()).totalItems == 1)
    }

    @Test func createReadUpdateDeleteRoundTripsValues() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let created = try fixture.records.create("patients", [
            "patient_number": "P7", "name": "Ann", "born": "1980-02-03", "consent": .bool(true), "visits": .number(3),
            "tags": .array(["vip", "vip", "new"]), "notes": .object(["allergies": .array(["nuts"])]),
        ])
        // The create's answer (built from the values it inserted) is the record as stored.
        #expect(try fixture.records.get("patients", id: created.id) == created)
        #expect(created.values["visits"] == .number(3))
        #expect(created.values["email"] == "")
        #expect(created.id.count == 15)
        #expect(created.values["born"] == "1980-02-03 00:00:00.000Z")
        #expect(created.values["consent"] == .bool(true))
        #expect(created.values["tags"] == .array(["vip", "new"]))  // duplicates collapse
        let updated = try fixture.records.update("patients", id: created.id, ["name": "Anna"])
        #expect(updated.values["name"] == "Anna")
        #expect(updated.values["patient_number"] == "P7")
        try fixture.records.delete("patients", id: created.id)
        #expect(throws: BurgRecords.RecordError.self) { try fixture.records.get("patients", id: created.id) }
        #expect(throws: BurgRecords.RecordError.self) { try fixture.records.delete("patients", id: created.id) }
    }

    @Test func pagesHaveExactTotalsAndAPagePastTheEndIsEmptyWithTotals() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        for index in 0..<23 {
            try fixture.records.create("patients", ["patient_number": .string("P\(index)"), "name": .string("N\(index % 5)"), "visits": .number(Double(index))])
        }
        var query = ListQuery()
        query.perPage = 10
        query.sort = "-visits"
        query.filter = "visits >= 3"
        let first = try fixture.records.list("patients", query)
        #expect(first.totalItems == 20)
        #expect(first.totalPages == 2)
        #expect(first.items.map { $0.values["visits"] } == (13...22).reversed().map { .number(Double($0)) })
        query.page = 5
        let past = try fixture.records.list("patients", query)
        #expect(past.items.isEmpty)
        #expect(past.totalItems == 20)
        query.skipTotal = true
        #expect(try fixture.records.list("patients", query).totalItems == -1)
        query.perPage = 501
        #expect(throws: BurgRecords.RecordError.self) { try fixture.records.list("patients", query) }
        var bad = ListQuery()
        bad.filter = "nmae = 1"
        #expect(throws: FilterError.self) { try fixture.records.list("patients", bad) }
        bad.filter = ""
        bad.sort = "nope"
        #expect(throws: FilterError.self) { try fixture.records.list("patients", bad) }
    }

    @Test func filtersFollowRelationPaths() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(CollectionModel(name: "customers", fields: [Field(name: "name", type: .text)]))
        var relation = Field(name: "customer", type: .relation)
        relation.collection = "customers"
        try fixture.collections.create(CollectionModel(name: "orders", fields: [relation, Field(name: "qty", type: .number)]))
        let acme = try fixture.records.create("customers", ["name": "ACME"])
        let initech = try fixture.records.create("customers", ["name": "Initech"])
        try fixture.records.create("orders", ["customer": .string(acme.id), "qty": .number(5)])
        try fixture.records.create("orders", ["customer": .string(initech.id), "qty": .number(7)])
        var query = ListQuery()
        query.filter = "customer.name ~ 'acm' && qty > 1"
        let result = try fixture.records.list("orders", query)
        #expect(result.items.map { $0.values["customer"] } == [.string(acme.id)])
    }

    @Test func aCursorContinuesAfterItsRecordEvenWhenRecordsAreAddedBeforeIt() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(CollectionModel(name: "items", fields: [Field(name: "n", type: .number)]))
        for n in 0..<10 { try fixture.records.create("items", ["n": .number(Double(n * 10))]) }
        var query = ListQuery()
        query.sort = "n"
        query.perPage = 4
        let first = try fixture.records.list("items", query)
        #expect(first.items.map { $0.values["n"] } == [0, 10, 20, 30].map { JSONValue.number($0) })
        // An offset would now repeat "30"; the cursor does not.
        try fixture.records.create("items", ["n": .number(5)])
        let next: String = try #require(first.nextCursor)
        query.cursor = next
        let second = try fixture.records.list("items", query)
        #expect(second.items.map { $0.values["n"] } == [40, 50, 60, 70].map { JSONValue.number($0) })
        #expect(second.totalItems == 11)

        query.sort = "-n"
        let other = #expect(throws: BurgRecords.RecordError.self) { try fixture.records.list("items", query) }
        #expect(other?.code == .invalidQuery)
        query.sort = "n"
        for tampered in ["garbage", "", String(query.cursor!.dropLast(3)), "eyJzIjoibiIsImsiOltdLCJyIjoxfQ"] where !tampered.isEmpty {
            query.cursor = tampered
            #expect(throws: BurgRecords.RecordError.self, "\(tampered)") { try fixture.records.list("items", query) }
        }
    }
}
