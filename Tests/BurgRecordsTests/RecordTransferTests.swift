import BurgRecords
import BurgStore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

@Suite struct RecordTransferTests {
    func write(_ lines: [String], to path: FilePath) throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path.string))
    }

    func patientLine(_ index: Int) -> String {
        "{\"patient_number\": \"P\(index)\", \"name\": \"Name \(index)\", \"visits\": \(index % 7), \"tags\": [\"new\"], \"notes\": {\"i\": \(index)}}"
    }

    @Test func ndjsonImportCommitsInBatchesAndExportRoundTrips() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let file = fixture.dir.path("in.ndjson")
        try write((0..<2_500).map(patientLine), to: file)
        var progressCalls = 0
        let report = try RecordImporter(store: fixture.store).importFile(file, into: "patients") { _ in progressCalls += 1 }
        #expect(report.imported == 2_500)
        #expect(report.committedBatches == 3)
        #expect(report.failed == 0)
        #expect(progressCalls == 3)

        var exported = ""
        let count = try RecordExporter(store: fixture.store).export("patients", format: .ndjson) { exported += $0 }
        #expect(count == 2_500)
        // Re-importing the export into a copy of the collection reproduces every record, ids included.
        var copy = RecordsFixture.patients()
        copy.name = "patients_copy"
        try fixture.collections.create(copy)
        let exportFile = fixture.dir.path("out.ndjson")
        try Data(exported.utf8).write(to: URL(fileURLWithPath: exportFile.string))
        #expect(try RecordImporter(store: fixture.store).importFile(exportFile, into: "patients_copy").imported == 2_500)
        var all = ListQuery()
        all.perPage = 500
        all.sort = "patient_number"
        for page in 1...5 {
            all.page = page
            let original = try fixture.records.list("patients", all).items
            let copied = try fixture.records.list("patients_copy", all).items
            #expect(original.map(\.id) == copied.map(\.id))
            #expect(original.map(\.values) == copied.map(\.values))
        }
    }

    @Test func aMalformedLineAbortsAndNothingAfterTheLastGoodBatchIsCommitted() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let file = fixture.dir.path("in.ndjson")
        var lines = (0..<3_000).map(patientLine)
        lines[1_500] = "{\"patient_number\": \"P1500\", \"name\": "  // truncated mid-object
        try write(lines, to: file)
        let error = try #require(throws: ImportError.self) {
            try RecordImporter(store: fixture.store).importFile(file, into: "patients")
        }
        #expect(error.code == .aborted)
        #expect(error.description.contains("line 1501"))
        #expect(error.report?.errors.first?.line == 1_501)
        #expect(try fixture.records.list("patients", ListQuery()).totalItems == 1_000)
    }

    @Test func skipModeReportsEveryBadLineWithItsNumber() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let file = fixture.dir.path("in.ndjson")
        var lines = (0..<10).map(patientLine)
        lines[2] = "not json"
        lines[4] = "{\"patient_number\": \"P4\", \"name\": \"x\", \"email\": \"nope\"}"
        lines[6] = patientLine(1)  // duplicate unique patient_number P1
        try write(lines, to: file)
        var options = ImportOptions()
        options.onError = .skip
        let report = try RecordImporter(store: fixture.store).importFile(file, into: "patients", options: options)
        #expect(report.imported == 7)
        #expect(report.errors.map(\.line) == [3, 5, 7], "\(report.errors)")
        #expect(report.errors[1].fields["email"]?.code == "validation_invalid_email")
        #expect(report.errors[2].fields["patient_number"]?.code == "validation_not_unique")
        #expect(try fixture.records.list("patients", ListQuery()).totalItems == 7)
    }

    @Test func aDryRunValidatesButCommitsNothing() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let file = fixture.dir.path("in.ndjson")
        try write((0..<50).map(patientLine), to: file)
        var options = ImportOptions()
        options.dryRun = true
        let report = try RecordImporter(store: fixture.store).importFile(file, into: "patients", options: options)
        #expect(report.imported == 50)
        #expect(try fixture.records.list("patients", ListQuery()).totalItems == 0)
    }

    @Test func csvWithQuotesCommasAndNewlinesRoundTrips() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let file = fixture.dir.path("in.csv")
        try write([
            "patient_number,name,tags,notes",
            "P1,\"Doe, Jane\",\"[\"\"vip\"\"]\",\"{\"\"a\"\":1}\"",
            "P2,\"Line one",
            "line two with \"\"quotes\"\"\",[],",
        ], to: file)
        var options = ImportOptions()
        options.format = .csv
        let report = try RecordImporter(store: fixture.store).importFile(file, into: "patients", options: options)
        #expect(report.imported == 2, "\(report.errors)")
        var query = ListQuery()
        query.sort = "patient_number"
        let items = try fixture.records.list("patients", query).items
        #expect(items[0].values["name"] == "Doe, Jane")
        #expect(items[0].values["tags"] == .array(["vip"]))
        #expect(items[0].values["notes"] == .object(["a": .number(1)]))
        #expect(items[1].values["name"] == "Line one\nline two with \"quotes\"")

        var csv = ""
        try RecordExporter(store: fixture.store).export("patients", format: .csv) { csv += $0 }
        var copy = RecordsFixture.patients()
        copy.name = "copy"
        try fixture.collections.create(copy)
        let exportFile = fixture.dir.path("out.csv")
        try Data(csv.utf8).write(to: URL(fileURLWithPath: exportFile.string))
        #expect(try RecordImporter(store: fixture.store).importFile(exportFile, into: "copy", options: options).imported == 2)
        #expect(try fixture.records.list("copy", query).items.map(\.values) == items.map(\.values))
    }

    @Test func aCSVHeaderWithUnknownFieldsIsRefusedBeforeAnyRow() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let file = fixture.dir.path("in.csv")
        try write(["patient_number,nmae", "P1,Ann"], to: file)
        var options = ImportOptions()
        options.format = .csv
        let error = try #require(throws: ImportError.self) {
            try RecordImporter(store: fixture.store).importFile(file, into: "patients", options: options)
        }
        #expect(error.code == .badHeader)
        #expect(error.description.contains("nmae"))
        #expect(try fixture.records.list("patients", ListQuery()).totalItems == 0)
    }

    @Test func aMissingFileIsATypedError() throws {
        let fixture = try RecordsFixture()
        try fixture.collections.create(RecordsFixture.patients())
        let error = try #require(throws: ImportError.self) {
            try RecordImporter(store: fixture.store).importFile(fixture.dir.path("nope.ndjson"), into: "patients")
        }
        #expect(error.code == .cannotOpen)
    }
}
