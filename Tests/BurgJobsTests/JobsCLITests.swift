import BurgCore
import BurgTestSupport
import Foundation
import GRDB
import Testing

/// The jobs commands as a person meets them: a `records.import` whose file is not under the data
/// directory is refused when enqueued, `jobs show` reads as text, and a worker logs the JSON lines
/// `burg serve` logs.
@Suite struct JobsCLITests {
    @Test func aRecordsImportJobForAFileNotUnderTheDataDirectoryIsRefusedWhenEnqueued() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        #expect(try ChildProcess.run(["init", "--template", "clinic", "--data-dir", data]).status == 0)
        let args = #"{"collection": "patients", "file": "uploads/p.ndjson"}"#
        let refused = try ChildProcess.run(["jobs", "enqueue", "records.import", "--args", args, "--data-dir", data])
        #expect(refused.status == ExitStatus.usage)
        #expect(refused.firstLine == "burg: records.import: there is no file \(data)/uploads/p.ndjson — \"file\" is relative to the data directory \(data), so copy the file there first (e.g. into \(data)/uploads/) and name it as \"uploads/<name>\"", "\(refused.standardError)")
        #expect(try ChildProcess.run(["jobs", "list", "--data-dir", data]).lines == ["0 job(s)"], "nothing was enqueued")

        try FileManager.default.createDirectory(atPath: dir.path("data/uploads").string, withIntermediateDirectories: true)
        try Data(#"{"patient_number": "P1", "first_name": "Ann", "last_name": "Lee"}"#.utf8).write(to: URL(fileURLWithPath: dir.path("data/uploads/p.ndjson").string))
        let enqueued = try ChildProcess.run(["jobs", "enqueue", "records.import", "--args", args, "--data-dir", data])
        #expect(enqueued.status == 0, "\(enqueued.standardError)")
        let id = try #require(enqueued.lines.first)

        let show = try ChildProcess.run(["jobs", "show", id, "--data-dir", data])
        #expect(show.status == 0, "\(show.standardError)")
        #expect(show.firstLine == "job \(id) records.import: available, attempt 0/1")
        #expect(show.lines.contains { $0.hasPrefix("arguments:") && $0.contains(#""file":"uploads/p.ndjson""#) }, "\(show.lines)")
        #expect(!show.lines.joined().contains(#"\/"#))
        let created = try #require(show.lines.first { $0.hasPrefix("created:") })
        #expect(created.wholeMatch(of: /created:    \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/) != nil, "\(created)")

        let json = try ChildProcess.run(["jobs", "show", id, "--json", "--data-dir", data])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.lines.joined().utf8)) as? [String: Any])
        #expect((object["args"] as? [String: Any])?["file"] as? String == "uploads/p.ndjson")
        #expect((object["createdAt"] as? String)?.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(object)")
    }

    /// `records.validate` checks stored records with the batch validator `burg validate` uses: a row
    /// made invalid behind the schema's back (a required last name emptied) is counted.
    @Test func aRecordsValidateJobCountsTheStoredRecordsThatBreakTheSchema() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        #expect(try ChildProcess.run(["init", "--template", "clinic", "--data-dir", data]).status == 0)
        let lines = (1...3).map { #"{"patient_number": "P\#($0)", "first_name": "Ann", "last_name": "Lee"}"# }
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: dir.path("p.ndjson").string))
        let imported = try ChildProcess.run(["import", "patients", dir.path("p.ndjson").string, "--data-dir", data])
        #expect(imported.status == 0, "\(imported.standardError)")
        try DatabaseQueue(path: dir.path("data/data.db").string).write { db in
            try db.execute(sql: "UPDATE patients SET last_name = '' WHERE patient_number = 'P2'")
        }
        let enqueued = try ChildProcess.run(["jobs", "enqueue", "records.validate", "--args", #"{"collection": "patients"}"#, "--data-dir", data])
        #expect(enqueued.status == 0, "\(enqueued.standardError)")
        let id = try #require(enqueued.lines.first)
        let worker = try ChildProcess(BuiltProducts.burg, ["worker", "--data-dir", data])
        defer { worker.signal(SIGKILL) }
        var job: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let show = try ChildProcess.run(["jobs", "show", id, "--json", "--data-dir", data])
            job = (try? JSONSerialization.jsonObject(with: Data(show.lines.joined().utf8)) as? [String: Any]) ?? [:]
            if ["succeeded", "failed", "discarded"].contains(job["state"] as? String ?? "") { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(job["state"] as? String == "succeeded", "\(job)")
        let result = job["result"] as? [String: Any]
        #expect(result?["checked"] as? Int == 3 && result?["invalid"] as? Int == 1, "\(job)")
    }

    @Test func aWorkerLogsJSONLinesAsServeDoes() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        let worker = try ChildProcess(BuiltProducts.burg, ["worker", "--data-dir", data])
        let started = try worker.waitForLine { $0.contains("worker started") }
        worker.signal(SIGTERM)
        #expect(try worker.wait(timeout: .seconds(30)) == 0)
        for line in worker.lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect((object?["label"] as? String)?.hasPrefix("burg.") == true && object?["time"] is String, "\(line)")
        }
        #expect(started.hasPrefix(#"{"time":""#) && started.contains(#""label":"burg.worker""#))
        #expect(worker.standardError.isEmpty, "\(worker.standardError)")
    }
}
