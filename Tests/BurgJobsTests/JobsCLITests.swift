import BurgCore
import BurgTestSupport
import Foundation
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
