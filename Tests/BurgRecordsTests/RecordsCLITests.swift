import BurgCore
import BurgTestSupport
import Foundation
import Testing

/// The records commands as a user runs them: real `burg` processes on a temp data dir.
@Suite struct RecordsCLITests {
    @Test func createImportListAndExportFromTheCommandLine() throws {
        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data").string
        let definition = dir.path("patients.json")
        try Data(#"{"name": "patients", "fields": [{"name": "name", "type": "text", "required": true}, {"name": "age", "type": "number"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: definition.string))
        let create = try ChildProcess.burg("collections", "create", definition.string, "--data-dir", dataDir)
        #expect(try create.wait() == 0, "\(create.standardError)")

        let input = dir.path("in.ndjson")
        let lines = (1...5).map { "{\"name\": \"N\($0)\", \"age\": \($0)}" } + ["{\"age\": 9}"]
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: input.string))
        let skip = try ChildProcess.burg("import", "patients", input.string, "--on-error", "skip", "--data-dir", dataDir)
        #expect(try skip.wait() == ExitStatus.dataError)
        #expect(skip.lines.contains { $0.hasPrefix("line 6:") && $0.contains("validation_required") })

        let list = try ChildProcess.burg("records", "list", "patients", "--filter", "age >= 2", "--sort=-age", "--json", "--data-dir", dataDir)
        #expect(try list.wait() == 0, "\(list.standardError)")
        let page = try JSONSerialization.jsonObject(with: Data(list.lines.joined().utf8)) as? [String: Any]
        #expect(page?["totalItems"] as? Int == 4)
        #expect((page?["items"] as? [[String: Any]])?.first?["name"] as? String == "N5")

        let export = dir.path("out.csv")
        let exported = try ChildProcess.burg("export", "patients", "--format", "csv", "-o", export.string, "--data-dir", dataDir)
        #expect(try exported.wait() == 0)
        let csv = String(decoding: try #require(try AtomicFile.read(.init(export.string))), as: UTF8.self)
        #expect(csv.split(separator: "\n").count == 6)  // header + 5 records

        let bad = try ChildProcess.burg("records", "list", "patients", "--filter", "nmae = 1", "--data-dir", dataDir)
        #expect(try bad.wait() == ExitStatus.usage)
        #expect(bad.standardError.contains("unknown field \"nmae\""))
    }
}
