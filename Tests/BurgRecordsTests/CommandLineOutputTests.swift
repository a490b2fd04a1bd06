import BurgCore
import BurgRecords
import BurgTestSupport
import Foundation
import Testing

/// What a person sees running the commands without a terminal (in a script, under CI): one summary on
/// stdout, progress that ends at 100 % on stderr, no log lines among the output, refusals that say what
/// to type instead and create nothing.
@Suite struct CommandLineOutputTests {
    @Test func initPrintsOneSummaryLineAndRunningItAgainExits73ChangingNothing() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        let first = try ChildProcess.run(["init", "--template", "clinic", "--data-dir", data])
        #expect(first.status == 0, "\(first.standardError)")
        #expect(first.lines == ["data directory \(data) is ready with the clinic template: collections patients, consultations, procedures"])
        #expect(first.standardError.isEmpty, "no log lines: \(first.standardError)")

        let again = try ChildProcess.run(["init", "--template", "clinic", "--data-dir", data])
        #expect(again.status == ExitStatus.cantCreate)
        #expect(again.lines.isEmpty)
        #expect(again.firstLine == "burg: the clinic template was not applied: collection \"patients\" already exists in \(data) (nothing was changed). It was probably applied before; use another --data-dir for a fresh data directory, or `burg collections delete patients` first")
        let list = try ChildProcess.run(["collections", "list", "--data-dir", data])
        #expect(list.lines.count == 3, "the template's three collections, once: \(list.lines)")
    }

    @Test func aNegativeCountIsRefusedInWordsBeforeAnythingIsCreated() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data")
        let seed = try ChildProcess.run(["seed", "patients", "--count", "-3", "--data-dir", data.string])
        #expect(seed.status == ExitStatus.usage)
        #expect(seed.firstLine == "Error: --count must be 0 or more, not -3; e.g. --count 100", "\(seed.standardError)")
        #expect(!FileManager.default.fileExists(atPath: data.string))
    }

    @Test func aSortStartingWithADashIsExplainedWithTheWayToWriteIt() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data")
        let list = try ChildProcess.run(["records", "list", "patients", "--sort", "-created", "--data-dir", data.string])
        #expect(list.status == ExitStatus.usage)
        #expect(list.firstLine == "Error: --sort needs a value, and -created after it reads as an option because it starts with -; write --sort=-created", "\(list.standardError)")
        #expect(list.errorLines.contains { $0.hasPrefix("Usage: burg records list") }, "\(list.standardError)")
        #expect(!FileManager.default.fileExists(atPath: data.string))
    }

    @Test func seedImportAndValidateEndTheirProgressAt100PercentWithoutATerminal() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        #expect(try ChildProcess.run(["init", "--template", "clinic", "--data-dir", data]).status == 0)
        let seed = try ChildProcess.run(["seed", "patients", "--count", "20000", "--seed", "1", "--data-dir", data])
        #expect(seed.status == 0, "\(seed.standardError)")
        #expect(seed.lines == ["inserted 20000 records into patients"])
        let seedEnd = try #require(seed.errorLines.last)
        #expect(seedEnd.hasPrefix("seeding patients [####################] 100% ") && seedEnd.hasSuffix("20000 records"), "\(seed.standardError)")

        let definition = dir.path("people.json")
        try Data(#"{"name": "people", "fields": [{"name": "name", "type": "text", "required": true}, {"name": "note", "type": "text"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: definition.string))
        #expect(try ChildProcess.run(["collections", "create", definition.string, "--data-dir", data]).status == 0)
        let export = dir.path("people.ndjson")
        let rows = (1...20_000).map { #"{"name": "Person \#($0)", "note": "\#(String(repeating: "x", count: 200))"}"# }
        try Data(rows.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: export.string))
        let load = try ChildProcess.run(["import", "people", export.string, "--data-dir", data])
        #expect(load.status == 0, "\(load.standardError)")
        #expect(load.lines == ["imported 20000 records from 20000 lines"])
        #expect(load.errorLines.last?.hasPrefix("importing \(export.string) [####################] 100% ") == true, "\(load.standardError)")

        let validate = try ChildProcess.run(["validate", "patients", "--data-dir", data])
        #expect(validate.status == 0, "\(validate.standardError)")
        #expect(validate.firstLine.hasPrefix("checked 20000 of 20000 records in "), "\(validate.lines)")
        #expect(validate.errorLines.last?.hasPrefix("validating patients [####################] 100% ") == true, "\(validate.standardError)")
    }

    @Test func importListsTheFirstHundredBadLinesAndSaysHowManyMoreThereWere() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        let definition = dir.path("people.json")
        try Data(#"{"name": "people", "fields": [{"name": "name", "type": "text", "required": true}]}"#.utf8).write(to: URL(fileURLWithPath: definition.string))
        #expect(try ChildProcess.run(["collections", "create", definition.string, "--data-dir", data]).status == 0)
        let lines = (1...5).map { #"{"name": "P\#($0)"}"# } + Array(repeating: #"{"age": 3}"#, count: 11_000)
        let input = dir.path("people.ndjson")
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: input.string))
        let run = try ChildProcess.run(["import", "people", input.string, "--on-error", "skip", "--data-dir", data])
        #expect(run.status == ExitStatus.dataError)
        #expect(run.firstLine == "imported 5 records from 11005 lines; 11000 bad lines skipped", "\(run.lines.prefix(2))")
        #expect(run.lines.count == 1 + 100 + 1)
        #expect(run.lines[1].hasPrefix("line 6: "))
        #expect(run.lines.last == "… and 10900 more bad lines not listed (100 of 11000 shown; --max-errors N lists more, --json gives the counts)")
    }

    @Test func seededTextReadsLikeTheFieldItFills() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data").string
        #expect(try ChildProcess.run(["init", "--template", "clinic", "--data-dir", data]).status == 0)
        #expect(try ChildProcess.run(["seed", "patients", "--count", "300", "--seed", "3", "--data-dir", data]).status == 0)
        #expect(try ChildProcess.run(["seed", "consultations", "--count", "300", "--seed", "3", "--data-dir", data]).status == 0)
        let filler = ["bracket", "pump", "housing", "valve", "routine review"]
        func values(_ collection: String, _ field: String) throws -> [String] {
            let export = try ChildProcess.run(["export", collection, "--data-dir", data])
            return try export.lines.compactMap { line in
                guard case .object(let object) = try JSONValue.parse(line), case .string(let text)? = object[field], !text.isEmpty else { return nil }
                return text
            }
        }
        let insurers = try values("patients", "insurance_provider")
        #expect(insurers.count > 200)
        #expect(insurers.allSatisfy { value in !filler.contains { value.contains($0) } }, "\(Set(insurers))")
        #expect(Set(insurers).isSubset(of: ["AOK Bayern", "AOK Nordost", "Techniker Krankenkasse", "Barmer", "DAK-Gesundheit", "IKK classic", "KKH",
                                            "HEK", "Debeka", "Allianz Private Krankenversicherung", "ÖGK", "SVS", "Helsana", "CSS", "Swica"]))
        #expect(try values("consultations", "surgeon").allSatisfy { $0.hasPrefix("Dr. ") })
        for field in ["reason", "diagnosis", "notes"] {
            let texts = try values("consultations", field)
            #expect(!texts.isEmpty && texts.allSatisfy { value in !filler.contains { value.contains($0) } }, "\(field): \(texts.prefix(3))")
        }
    }

    /// Help text is written as paragraphs and wrapped by ArgumentParser to the terminal's width: at a
    /// width of 1000 columns no line of prose may be the tail of a sentence broken in the source.
    @Test func helpTextIsWrappedByArgumentParserNotInTheSource() throws {
        var commands: [[String]] = [[]]
        var checked = 0
        while let command = commands.popLast() {
            let help = try ChildProcess.run(command + ["--help"], environment: ["COLUMNS": "1000"])
            #expect(help.status == 0, "\(command)")
            checked += 1
            var inSubcommands = false
            for line in help.lines {
                if line.hasPrefix("SUBCOMMANDS:") { inSubcommands = true; continue }
                if line.isEmpty { inSubcommands = false; continue }
                if inSubcommands, line.hasPrefix("  "), let name = line.split(separator: " ").first, name != "help", name.first?.isLowercase == true {
                    commands.append(command + [String(name.replacingOccurrences(of: " (default)", with: ""))])
                }
                // Unindented prose begins a paragraph or a section; a broken sentence's tail starts lower case or with a digit.
                if let first = line.first, !line.hasPrefix(" ") {
                    #expect(!first.isLowercase && !first.isNumber, "burg \(command.joined(separator: " ")) --help breaks a sentence: \"\(line)\"")
                }
            }
        }
        #expect(checked > 30)
        let root = try ChildProcess.run(["--help"], environment: ["COLUMNS": "1000"])
        #expect(root.lines.contains { $0.contains("65 malformed data, 66 missing input, 69 unavailable") })
    }
}
