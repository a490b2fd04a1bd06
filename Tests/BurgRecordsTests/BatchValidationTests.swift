import BurgCore
import BurgRecords
import BurgTestSupport
import Foundation
import Testing

/// Batch validation: every error with its record, the same answer on one or many threads, a record that
/// hangs its check is timed out without stalling the batch, and a batch can be cancelled.
@Suite struct BatchValidationTests {
    /// 200 records stored under a lax schema, then the schema made strict: 40 lack a code, 20 have a bad one.
    static func populated() throws -> RecordsFixture {
        let fixture = try RecordsFixture()
        try fixture.collections.create(CollectionModel(name: "parts", fields: [Field(name: "code", type: .text), Field(name: "qty", type: .number)]))
        for index in 0..<200 {
            let code = index % 5 == 0 ? "" : index % 8 == 1 ? "bad-\(index)" : "P\(index)"
            try fixture.records.create("parts", ["code": .string(code), "qty": .number(Double(index))], id: String(format: "p%014d", index))
        }
        var strict = try fixture.collections.get("parts")
        strict.fields[0].required = true
        strict.fields[0].pattern = "^P[0-9]+$"
        try fixture.collections.update("parts", to: strict)
        return fixture
    }

    @Test func everyInvalidRecordIsReportedWithItsFieldErrorsOnOneOrManyThreads() throws {
        let fixture = try Self.populated()
        var options = BatchValidationOptions()
        options.chunkSize = 64  // several chunks
        options.workers = 1
        let single = try RecordBatchValidator(store: fixture.store).validateStored("parts", options: options)
        options.workers = 4
        let parallel = try RecordBatchValidator(store: fixture.store).validateStored("parts", options: options)
        #expect(single.total == 200 && single.checked == 200)
        #expect(single.invalid == 60 && single.valid == 140 && single.timedOut == 0)
        #expect(single.errors.count == 60)
        #expect(single.errors.first { $0.id == "p00000000000000" }?.fields["code"]?.code == "validation_required")
        #expect(single.errors.first { $0.id == "p00000000000001" }?.fields["code"]?.code == "validation_invalid_format")
        var comparable = parallel
        comparable.seconds = single.seconds
        #expect(comparable == single)
    }

    @Test func everyRecordIsCheckedExactlyOnceAcrossManySmallChunks() throws {
        // The end of every chunk is a hand-over between threads: no result may be lost or counted twice.
        let fixture = try Self.populated()
        var options = BatchValidationOptions()
        options.chunkSize = 3
        options.workers = 4
        for _ in 0..<20 {
            let report = try RecordBatchValidator(store: fixture.store).validateStored("parts", options: options)
            #expect(report.checked == 200 && report.valid + report.invalid == 200 && report.invalid == 60)
        }
    }

    @Test func aRecordWhoseCheckHangsIsTimedOutWhileTheRestOfTheBatchFinishes() throws {
        var code = Field(name: "code", type: .text)
        code.pattern = "^(a+)+$"  // catastrophic backtracking on "aaa…ab"
        let collection = CollectionModel(name: "codes", fields: [code])
        var records = (0..<300).map { index in
            RecordModel(id: String(format: "c%014d", index), collectionId: collection.id, collectionName: "codes", created: "", updated: "",
                   values: ["code": .string(String(repeating: "a", count: 1 + index % 20))])
        }
        // About 4 s of backtracking on this machine (each extra pair of characters quadruples it).
        records[150].values["code"] = .string(String(repeating: "a", count: 26) + "b")
        let fixture = try RecordsFixture()
        var options = BatchValidationOptions()
        options.workers = 2
        options.itemTimeout = .milliseconds(300)
        let report = try RecordBatchValidator(store: fixture.store).validate(records, against: collection, options: options)
        #expect(report.checked == 300 && report.valid == 299 && report.timedOut == 1)
        #expect(report.errors.map(\.id) == ["c00000000000150"])
        #expect(report.errors.first?.fields["*"]?.code == "validation_timeout")
        #expect(report.seconds < 3, "the batch waited for the hung record: \(report.seconds) s")
    }

    @Test func aCancelledBatchStopsEarlyAndSaysSo() throws {
        let fixture = try RecordsFixture()
        var code = Field(name: "code", type: .text)
        code.pattern = "^(a+)+$"
        let collection = CollectionModel(name: "codes", fields: [code])
        // Each record takes ~15 ms, so the batch would run for seconds.
        let records = (0..<400).map { index in
            RecordModel(id: String(format: "c%014d", index), collectionId: collection.id, collectionName: "codes", created: "", updated: "",
                   values: ["code": .string(String(repeating: "a", count: 18) + "b")])
        }
        let cancellation = BatchCancellation()
        var seen: [BatchProgress] = []
        var options = BatchValidationOptions()
        options.workers = 2
        let report = try RecordBatchValidator(store: fixture.store).validate(records, against: collection, options: options,
            cancellation: cancellation) { progress in
            seen.append(progress)
            if progress.done > 0 { cancellation.cancel() }
        }
        #expect(report.cancelled)
        #expect(report.checked > 0 && report.checked < 400)
        #expect(report.invalid == report.checked)
        #expect(seen.contains { $0.done > 0 && $0.total == 400 && $0.rate > 0 && $0.eta != nil })
    }

    @Test func theValidateCommandReportsAndExitsWithDataError() throws {
        let fixture = try Self.populated()
        let run = try ChildProcess.burg("validate", "parts", "--workers", "2", "--json", "--data-dir", fixture.dir.path.string)
        #expect(try run.wait() == ExitStatus.dataError, "\(run.standardError)")
        let report = try JSONSerialization.jsonObject(with: Data(run.lines.joined().utf8)) as? [String: Any]
        #expect(report?["invalid"] as? Int == 60 && report?["checked"] as? Int == 200)
        let missing = try ChildProcess.burg("validate", "nothing", "--data-dir", fixture.dir.path.string)
        #expect(try missing.wait() != 0)
        #expect(missing.standardError.contains("nothing"))
    }
}
