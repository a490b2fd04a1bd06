import BurgCore
import BurgTestSupport
import Foundation
import Synchronization
import Testing

/// Every `burg` option and argument that takes a number, found in `burg --experimental-dump-help`,
/// given the values an attacker or a typo produces. Each run must end (or, for `serve` and `worker`,
/// come up and stop on SIGTERM) with a documented exit status — never a trap, an internal error or a
/// hang.
@Suite struct ExtremeNumbersCLITests {
    static let values = ["0", "-1", "2147483648", "9223372036854775807", "1e18", "NaN", "1e999"]
    /// Statuses docs/OPERATIONS.md documents for refusals and for success; 70 (a bug) and signals are not.
    static let documented: Set<Int32> = [0, 64, 65, 66, 69, 73, 74, 75, 77, 78]
    /// Value names that mean a number when an option has no default to tell.
    static let numericValueNames: Set<String> = ["seconds", "KiB", "bytes", "n", "MiB", "percent", "fps"]
    /// Numeric options without a default or a telling value name, and numeric positional arguments.
    static let numericWithoutDefault: Set<String> = [
        "seed --count", "seed --seed", "jobs enqueue --max-attempts",
        "bench show id", "bench compare a", "bench compare b", "bench export id",
        "jobs show id", "jobs cancel id", "jobs retry id",
    ]
    /// Options that must be among those walked: a check that the discovery still finds what it should.
    static let mustBeWalked: Set<String> = [
        "serve --workers", "serve --lockout-minutes", "serve --busy-timeout", "serve --cache-size",
        "serve --health-interval", "serve --optimize-interval", "db health --budget", "validate --timeout",
        "worker --lease", "worker --drain-timeout", "jobs enqueue --delay", "jobs enqueue --count",
        "records list --page", "import --batch-size", "bench run --rounds", "seed --count",
    ]

    struct Case: CustomStringConvertible {
        var key: String  // "serve --workers"
        var command: [String]
        var argument: String  // "--workers" or a positional's name
        var positional: Bool
        var value: String
        var description: String { "burg \(key)=\(value)" }
    }

    /// Minutes of child processes, waited for off Swift's cooperative pool (see ``offThePool(_:)``).
    @Test func everyNumericOptionRefusesExtremeValuesWithADocumentedStatusAndNeverTrapsOrHangs() async throws {
        try await offThePool { try checkEveryNumericOption() }
    }

    func checkEveryNumericOption() throws {
        let dir = try TemporaryDirectory()
        let shared = dir.path("shared").string
        try prepare(dataDir: shared, in: dir)

        let keys = try Self.numericArguments()
        let missing = Self.mustBeWalked.subtracting(keys.map(\.key))
        #expect(missing.isEmpty, "not found in the command tree: \(missing.sorted())")
        let cases = keys.flatMap { key in Self.values.map { Case(key: key.key, command: key.command, argument: key.argument, positional: key.positional, value: $0) } }

        struct Progress { var next = 0; var failures: [String] = []; var serviceStarts = 0 }
        let progress = Mutex(Progress())
        // Four runs at once: most are refusals that end in milliseconds.
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            while true {
                let index = progress.withLock { state in
                    defer { state.next += 1 }
                    return state.next
                }
                guard index < cases.count else { return }
                let run = cases[index]
                let outcome: Outcome
                do {
                    outcome = try Self.check(run, shared: shared, scratch: dir.path("run-\(index)").string, in: dir)
                } catch {
                    outcome = Outcome(failure: "\(error)")
                }
                progress.withLock { state in
                    if let failure = outcome.failure { state.failures.append("\(run): \(failure)") }
                    if outcome.started { state.serviceStarts += 1 }
                }
            }
        }
        let result = progress.withLock { $0 }
        #expect(result.failures.isEmpty, "\(result.failures.count) of \(cases.count) runs failed:\n\(result.failures.joined(separator: "\n"))")
        // The walk reached the services too (0 is a valid --workers), not only refusals.
        #expect(result.serviceStarts > 0)
    }

    /// The same ranges hold for the store values of `burg.json` and `BURG_STORE_*`: out of range, serve
    /// exits 78 naming the setting, before the data directory exists.
    @Test(arguments: [
        (#"{"store": {"busyTimeout": 1e300}}"#, [:], "store.busyTimeout"),
        (#"{"store": {"cacheSize": -1}}"#, [:], "store.cacheSize"),
        (#"{"store": {"checkpointInterval": 0}}"#, [:], "store.checkpointInterval"),
        (#"{"store": {"maxReaders": 100000}}"#, [:], "store.maxReaders"),
        ("{}", ["BURG_STORE_RETRY_DEADLINE": "nan"], "store.retryDeadline"),
    ] as [(String, [String: String], String)])
    func aStoreSettingOutOfRangeIsRefusedBeforeAnythingIsCreated(file: String, environment: [String: String], key: String) async throws {
        try await offThePool {
        let dir = try TemporaryDirectory()
        let config = dir.path("burg.json")
        try Data(file.utf8).write(to: URL(fileURLWithPath: config.string))
        let dataDir = dir.path("data")
        let serve = try ChildProcess.run(
            ["serve", "--http", "127.0.0.1:0", "--config", config.string, "--data-dir", dataDir.string],
            environment: environment, timeout: .seconds(60))
        #expect(serve.status == ExitStatus.config, "\(serve.standardError)")
        #expect(serve.standardError.contains("the setting \(key) must be from"), "\(serve.standardError)")
        #expect(!FileManager.default.fileExists(atPath: dataDir.string))
        }
    }

    /// Data every command can run on: a collection with a record, a superuser, an import file.
    func prepare(dataDir: String, in dir: TemporaryDirectory) throws {
        let definition = dir.path("notes.json")
        try Data(#"{"name": "notes", "fields": [{"name": "title", "type": "text"}]}"#.utf8).write(to: URL(fileURLWithPath: definition.string))
        #expect(try ChildProcess.run(["collections", "create", definition.string, "--data-dir", dataDir]).status == 0)
        try Data(#"{"title": "a"}"#.utf8 + [0x0A]).write(to: URL(fileURLWithPath: dir.path("notes.ndjson").string))
        #expect(try ChildProcess.run(["import", "notes", dir.path("notes.ndjson").string, "--data-dir", dataDir]).status == 0)
        #expect(try ChildProcess.run(["jobs", "enqueue", "noop", "--data-dir", dataDir]).status == 0)
        try FileManager.default.createDirectory(atPath: dir.path("bench").string, withIntermediateDirectories: true)
    }

    struct Argument { var key: String; var command: [String]; var argument: String; var positional: Bool }

    /// The numeric options and arguments of every command, read from the command tree itself.
    static func numericArguments() throws -> [Argument] {
        let dump = try ChildProcess.run(["--experimental-dump-help"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.lines.joined(separator: "\n").utf8)) as? [String: Any])
        var found: [Argument] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                let kind = argument["kind"] as? String
                let long = (argument["names"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "long" }?["name"] as? String
                let valueName = argument["valueName"] as? String ?? ""
                let name = kind == "positional" ? valueName : "--" + (long ?? "")
                guard kind == "option" || kind == "positional", !path.isEmpty else { continue }
                let key = path.joined(separator: " ") + " " + name
                let defaultIsNumber = (argument["defaultValue"] as? String).map { Double($0) != nil } ?? false
                if defaultIsNumber || (kind == "option" && numericValueNames.contains(valueName)) || numericWithoutDefault.contains(key) {
                    found.append(Argument(key: key, command: path, argument: name, positional: kind == "positional"))
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                walk(sub, path + [sub["commandName"] as? String ?? "?"])
            }
        }
        walk(try #require(root["command"] as? [String: Any]), [])
        return found
    }

    struct Outcome { var failure: String?; var started = false }

    /// Runs one case and says what was wrong with it, if anything.
    static func check(_ run: Case, shared: String, scratch: String, in dir: TemporaryDirectory) throws -> Outcome {
        let path = run.command.joined(separator: " ")
        let isService = path == "serve" || path == "worker"
        // A service gets a directory of its own: a second one on the shared directory would only be refused.
        var arguments = run.command + ["--data-dir", isService ? scratch : shared]
        func unlessTested(_ option: String, _ value: String) -> [String] { run.argument == option ? [] : [option, value] }
        switch path {
        case "serve": arguments += ["--http", "127.0.0.1:0"]
        case "records list", "validate": arguments += ["notes"]
        case "import": arguments += ["notes", dir.path("notes.ndjson").string]
        case "seed": arguments += ["notes"] + unlessTested("--count", "1")
        case "superuser upsert": arguments += ["someone@example.com", "a long password"]
        case "jobs enqueue": arguments += ["noop"]
        case "bench run":
            arguments += ["--target", dir.path("bench").string, "--file-size", "1M", "--allow-cached", "--only", "SEQ1M Q8T1"]
                + unlessTested("--duration", "0.2") + unlessTested("--ramp", "0")
            if run.argument == "--fps" || run.argument == "--streams" {
                arguments += ["--preset", "video", "--stream-rate", "1MB/s"] + unlessTested("--streams", "1")
            }
        case "bench compare": arguments += run.argument == "a" ? [] : ["1"]
        default: break
        }
        // `--opt=-1` and `-- -1`: a value starting with - must reach the option, not be read as a flag.
        if run.positional {
            arguments += ["--", run.value] + (path == "bench compare" && run.argument == "a" ? ["1"] : [])
        } else {
            arguments += ["\(run.argument)=\(run.value)"]
        }

        let child = try ChildProcess(BuiltProducts.burg, arguments)
        defer { if child.isRunning { child.signal(SIGKILL) } }
        var outcome = Outcome()
        if isService {
            let ready = path == "serve" ? "Server started and listening" : "worker started"
            let deadline = ContinuousClock.now + .seconds(60)
            while child.isRunning, ContinuousClock.now < deadline, !child.lines.contains(where: { $0.contains(ready) }) {
                usleep(20_000)
            }
            if child.isRunning {
                guard child.lines.contains(where: { $0.contains(ready) }) else {
                    return Outcome(failure: "neither ready nor ended after 60 s")
                }
                outcome.started = true
                usleep(300_000)  // let the services' first intervals and conversions run
                child.signal(SIGTERM)
            }
        }
        let status: Int32
        do {
            status = try child.wait(timeout: .seconds(60))
        } catch {
            return Outcome(failure: "did not end within 60 s (\(error))")
        }
        let stderr = child.standardError
        if stderr.contains("Fatal error") || stderr.contains("Stack dump") || stderr.contains("Program crashed") {
            outcome.failure = "trapped: \(stderr.suffix(400))"
        } else if !documented.contains(status) || (outcome.started && status != 0) {
            outcome.failure = "exit \(status): \(stderr.suffix(400))"
        }
        return outcome
    }
}
