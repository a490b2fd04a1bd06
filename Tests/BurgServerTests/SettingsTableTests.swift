import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// docs/OPERATIONS.md's table of settings is what `burg serve` reads: the same keys, variables, flags,
/// types and defaults as the code (through `burg serve --print-config`, which reads each value back from
/// the configuration that would run), each key effective from the file, the environment and its flag,
/// and a wrong type or an unknown key refused with status 78 naming it and where it was set.
@Suite struct SettingsTableTests {
    static let root = FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()

    /// One row of the documented table.
    struct Row: CustomStringConvertible {
        var key: String
        var environment: String
        var flag: String?
        var type: String
        var defaultValue: String?
        var description: String { key }
    }

    static func documentedRows() throws -> [Row] {
        let text = try String(contentsOfFile: root.appending("docs/OPERATIONS.md").string, encoding: .utf8)
        guard let start = text.range(of: "### Settings") else { throw TestFailure("docs/OPERATIONS.md has no Settings section") }
        func plain(_ cell: String) -> String? { cell == "—" ? nil : cell.trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
        var rows: [Row] = []
        for line in text[start.upperBound...].split(separator: "\n") {
            if line.hasPrefix("#") { break }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard line.hasPrefix("|"), cells.count >= 6, cells[0].hasPrefix("`") else { continue }
            rows.append(Row(key: plain(cells[0])!, environment: plain(cells[1])!, flag: plain(cells[2]), type: cells[3], defaultValue: plain(cells[4])))
        }
        return rows
    }

    /// `burg serve --print-config` with `arguments`, a config file holding `file` and `environment`.
    struct Printed {
        var status: Int32
        var standardError: String
        var settings: [String: [String: Any]]
        var configFile: String?
        var dataDirectoryCreated: Bool
        func value(_ key: String) -> Any? { settings[key]?["value"] }
        func source(_ key: String) -> String? { settings[key]?["source"] as? String }
    }

    static func printConfig(file: String? = nil, environment: [String: String] = [:], arguments: [String] = []) throws -> Printed {
        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data")
        var command = ["serve", "--print-config", "--data-dir", dataDir.string]
        if let file {
            let config = dir.path("burg.json")
            try Data(file.utf8).write(to: URL(fileURLWithPath: config.string))
            command += ["--config", config.string]
        }
        let run = try ChildProcess.run(command + arguments, environment: environment, timeout: .seconds(60))
        var printed = Printed(
            status: run.status, standardError: run.standardError, settings: [:], configFile: nil,
            dataDirectoryCreated: FileManager.default.fileExists(atPath: dataDir.string))
        if run.status == 0 {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.lines.joined(separator: "\n").utf8)) as? [String: Any])
            printed.settings = try #require(object["settings"] as? [String: [String: Any]])
            printed.configFile = object["configFile"] as? String
        }
        return printed
    }

    @Test func theTableListsExactlyTheSettingsOfTheCodeWithTheirVariablesFlagsTypesAndDefaults() async throws {
        try await offThePool {
        let rows = try Self.documentedRows()
        let printed = try Self.printConfig()
        #expect(printed.status == 0, "\(printed.standardError)")
        #expect(!printed.dataDirectoryCreated, "--print-config creates nothing")
        let documented = Set(rows.map(\.key))
        let inCode = Set(printed.settings.keys)
        #expect(documented.subtracting(inCode).isEmpty, "documented but not in the code: \(documented.subtracting(inCode).sorted())")
        #expect(inCode.subtracting(documented).isEmpty, "in the code but not documented: \(inCode.subtracting(documented).sorted())")
        #expect(rows.count == documented.count, "a key is documented twice")
        for row in rows {
            guard let entry = printed.settings[row.key] else { continue }
            #expect(entry["environment"] as? String == row.environment, "\(row.key)")
            #expect(entry["flag"] as? String == row.flag, "\(row.key)")
            #expect(entry["type"] as? String == row.type, "\(row.key)")
            #expect(entry["default"] as? String == row.defaultValue, "\(row.key)")
            #expect(entry["source"] as? String == "default", "\(row.key)")
            // What runs without any setting is the documented default.
            if let defaultValue = row.defaultValue {
                #expect(Self.same(entry["value"], defaultValue), "\(row.key): runs with \(String(describing: entry["value"])), documented \(defaultValue)")
            }
        }
        }
    }

    /// A value of each documented type that is not the default: the range's bounds for numbers.
    static func testValue(_ row: Row, publicDir: String) throws -> String {
        let texts = [
            "server.http": "127.0.0.1:9999", "server.origins": "https://app.example.com", "server.publicDir": publicDir,
            "logs.level": "debug", "store.synchronous": "full", "bench.fioPath": "/opt/fio/bin/fio", "bench.allowedTargets": "/srv/scratch",
        ]
        if let text = texts[row.key] { return text }
        if row.type == "boolean" { return row.defaultValue == "true" ? "false" : "true" }
        let parts = row.type.split(separator: " ")
        guard parts.count == 2, let dash = parts[1].firstIndex(of: "–") else { throw TestFailure("\(row.key): no test value for the type \(row.type)") }
        let low = String(parts[1][..<dash]), high = String(parts[1][parts[1].index(after: dash)...])
        return Double(low) == row.defaultValue.flatMap(Double.init) ? high : low
    }

    /// `value` in burg.json: `{"store": {"busyTimeout": 3600}}`.
    static func file(_ row: Row, _ value: String) -> String {
        let json: String = switch row.type {
        case "string": "\"\(value)\""
        case "list of strings": "[\"\(value)\"]"
        default: value
        }
        let sections = row.key.split(separator: ".")
        return "{\"\(sections[0])\": {\"\(sections[1])\": \(json)}}"
    }

    /// Whether a value `--print-config` printed is `expected` as the table or a test writes it.
    static func same(_ printed: Any?, _ expected: String) -> Bool {
        if let list = printed as? [String] { return list == [expected] }
        if let text = printed as? String { return text == expected }
        if expected == "true" || expected == "false" {
            if let flag = printed as? Bool { return flag == (expected == "true") }
            return (printed as? NSNumber)?.boolValue == (expected == "true")
        }
        guard let wanted = Double(expected) else { return false }
        let number: Double? = (printed as? Int).map(Double.init) ?? (printed as? Double) ?? (printed as? NSNumber)?.doubleValue
        guard let number else { return false }
        return abs(number - wanted) <= 1e-9 * max(1, abs(wanted))
    }

    @Test func eachSettingChangesWhatRunsFromTheFileTheEnvironmentAndItsFlag() async throws {
        try await offThePool {
        let rows = try Self.documentedRows()
        try #require(rows.count > 30)
        let dir = try TemporaryDirectory()
        let publicDir = dir.path("public")
        try FileManager.default.createDirectory(atPath: publicDir.string, withIntermediateDirectories: true)
        let defaults = try Self.printConfig()
        for row in rows {
            let value = try Self.testValue(row, publicDir: publicDir.string)
            #expect(!Self.same(defaults.value(row.key), value), "\(row.key): the test value \(value) is its default")
            var runs: [(String, Printed)] = [
                ("file", try Self.printConfig(file: Self.file(row, value))),
                ("environment", try Self.printConfig(environment: [row.environment: value])),
            ]
            if let flag = row.flag {
                // A flag without a value (only turns a setting on).
                let valueless = flag == "--allow-network-file-system"
                runs.append(("flag", try Self.printConfig(arguments: valueless ? [flag] : ["\(flag)=\(value)"])))
            }
            for (source, printed) in runs {
                #expect(printed.status == 0, "\(row.key) = \(value) by \(source): \(printed.standardError)")
                guard printed.status == 0 else { continue }
                #expect(Self.same(printed.value(row.key), value), "\(row.key) = \(value) by \(source) runs with \(String(describing: printed.value(row.key)))")
                #expect(printed.source(row.key) == source, "\(row.key) by \(source)")
                // Nothing else changed.
                let others = printed.settings.keys.filter { $0 != row.key && printed.source($0) != "default" }
                #expect(others.isEmpty, "\(row.key) by \(source) also set \(others.sorted())")
            }
        }
        }
    }

    @Test func aFlagOverridesTheEnvironmentWhichOverridesTheFile() async throws {
        try await offThePool {
        let both = try Self.printConfig(
            file: #"{"auth": {"bcryptCost": 5, "lockoutAfter": 7}, "workers": {"lease": 9}}"#,
            environment: ["BURG_AUTH_BCRYPT_COST": "6", "BURG_WORKERS_LEASE": "11"], arguments: ["--worker-lease", "12"])
        #expect(both.status == 0, "\(both.standardError)")
        #expect(Self.same(both.value("auth.bcryptCost"), "6") && both.source("auth.bcryptCost") == "environment")
        #expect(Self.same(both.value("auth.lockoutAfter"), "7") && both.source("auth.lockoutAfter") == "file")
        #expect(Self.same(both.value("workers.lease"), "12") && both.source("workers.lease") == "flag")
        }
    }

    @Test func aValueOfTheWrongTypeIsRefusedNamingTheKeyAndTheFileOrTheVariable() async throws {
        try await offThePool {
        for row in try Self.documentedRows() {
            let wrong = row.type == "string" || row.type == "list of strings" ? "12" : "\"twelve\""
            let sections = row.key.split(separator: ".")
            let file = "{\"\(sections[0])\": {\"\(sections[1])\": \(wrong)}}"
            let printed = try Self.printConfig(file: file)
            #expect(printed.status == ExitStatus.config, "\(row.key) = \(wrong): \(printed.standardError)")
            #expect(printed.standardError.contains(row.key) && printed.standardError.contains("burg.json"), "\(row.key): \(printed.standardError)")
            #expect(!printed.dataDirectoryCreated)
            guard row.type != "string", row.type != "list of strings" else { continue }
            let fromEnvironment = try Self.printConfig(environment: [row.environment: "twelve"])
            #expect(fromEnvironment.status == ExitStatus.config, "\(row.environment)=twelve: \(fromEnvironment.standardError)")
            #expect(fromEnvironment.standardError.contains(row.environment), "\(fromEnvironment.standardError)")
        }
        // A fraction for an integer, a number for a boolean.
        for file in [#"{"store": {"maxReaders": 2.5}}"#, #"{"server": {"indexFallback": 1}}"#] {
            let printed = try Self.printConfig(file: file)
            #expect(printed.status == ExitStatus.config, "\(file): \(printed.standardError)")
        }
        }
    }

    @Test(arguments: [
        (#"{"store": {"busyTimout": 5}}"#, "unknown setting store.busyTimout"),
        (#"{"stroe": {"busyTimeout": 5}}"#, "unknown setting stroe"),
        (#"{"store": 5}"#, "store in"),
        (#"{"auth": {"bcryptCost": {"value": 5}}}"#, "the setting auth.bcryptCost in"),
    ])
    func anUnknownKeyOrAMisplacedValueIsRefusedNamingItAndTheFile(file: String, message: String) async throws {
        try await offThePool {
        let printed = try Self.printConfig(file: file)
        #expect(printed.status == ExitStatus.config, "\(printed.standardError)")
        #expect(printed.standardError.contains(message) && printed.standardError.contains("burg.json"), "\(printed.standardError)")
        #expect(!printed.dataDirectoryCreated)
        }
    }

    @Test func aValueOfTheRightTypeButTheWrongFormIsRefusedBeforeAnythingIsCreated() async throws {
        try await offThePool {
        for (file, key) in [
            (#"{"server": {"http": "localhost"}}"#, "server.http"), (#"{"logs": {"level": "loud"}}"#, "logs.level"),
            (#"{"store": {"synchronous": "always"}}"#, "store.synchronous"), (#"{"server": {"origins": "example.com"}}"#, "server.origins"),
            (#"{"workers": {"count": 1000}}"#, "workers.count"),
        ] {
            let printed = try Self.printConfig(file: file)
            #expect(printed.status == ExitStatus.config, "\(file): \(printed.standardError)")
            #expect(printed.standardError.contains(key), "\(printed.standardError)")
            #expect(!printed.dataDirectoryCreated)
        }
        }
    }
}
