import BurgBench
import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// `burg bench ...` as a user runs it: real processes, real signals.
@Suite struct BenchCommandTests {
    func startLongRun(_ dir: TemporaryDirectory, engine: String = "native") throws -> ChildProcess {
        try ChildProcess.burg(
            "bench", "run", "--target", dir.path("target").string, "--data-dir", dir.path("data").string,
            "--file-size", "32M", "--duration", "30", "--ramp", "0", "--engine", engine, "--only", "RND4K Q1T1 read")
    }

    func makeTarget(_ dir: TemporaryDirectory) throws {
        try FileManager.default.createDirectory(atPath: dir.path("target").string, withIntermediateDirectories: false)
    }

    @Test(arguments: ["native"] + (fioInstalled ? ["fio"] : []))
    func sigintMidRunLeavesNoTestFile(engine: String) throws {
        let dir = try TemporaryDirectory()
        try makeTarget(dir)
        let run = try startLongRun(dir, engine: engine)
        // Measuring: the progress line reports I/O.
        #expect(waitUntil { run.standardError.contains("RND4K Q1T1 read [\(engine)]") }, "\(run.standardError)")
        #expect(!testFiles(in: dir.path("target")).isEmpty)
        run.signal(SIGINT)
        #expect(try run.wait(timeout: .seconds(20)) == 130)
        #expect(run.standardError.contains("interrupted; its test files were removed"))
        #expect(testFiles(in: dir.path("target")).isEmpty)
        #expect(!run.lines.contains { $0.contains("fio") && $0.contains("MB/s") })
        // No fio left behind either.
        let fioLeft = try ChildProcess(FilePath("/usr/bin/pgrep"), ["-f", "filename=\(dir.path("target").string)"])
        #expect(try fioLeft.wait() == 1)
    }

    @Test func aSecondRunOnTheSameTargetExitsBusyNamingTheFirst() throws {
        let dir = try TemporaryDirectory()
        try makeTarget(dir)
        let first = try startLongRun(dir)
        defer { first.signal(SIGKILL) }
        #expect(waitUntil { first.standardError.contains("RND4K Q1T1 read [native]") }, "\(first.standardError)")
        let second = try ChildProcess.burg(
            "bench", "run", "--target", dir.path("target").string, "--data-dir", dir.path("data").string, "--file-size", "16M")
        #expect(try second.wait() == ExitStatus.tempFail)
        #expect(second.standardError.contains("a benchmark is already running on \(dir.path("target"))"))
        #expect(second.standardError.contains("pid \(first.pid): "))
        #expect(second.standardError.contains("bench run"))
    }

    @Test func aRunKilledWithSIGKILLLeavesFilesThatTheNextRunRemoves() throws {
        let dir = try TemporaryDirectory()
        try makeTarget(dir)
        let crashed = try startLongRun(dir)
        #expect(waitUntil { crashed.standardError.contains("RND4K Q1T1 read [native]") }, "\(crashed.standardError)")
        crashed.signal(SIGKILL)
        _ = try crashed.wait()
        #expect(!testFiles(in: dir.path("target")).isEmpty)
        let next = try ChildProcess.burg(
            "bench", "run", "--target", dir.path("target").string, "--data-dir", dir.path("data").string,
            "--file-size", "16M", "--duration", "0.3", "--ramp", "0", "--only", "RND4K Q1T1 read")
        #expect(try next.wait() == 0, "\(next.standardError)")
        #expect(testFiles(in: dir.path("target")).isEmpty)
    }

    @Test(arguments: [
        (["--target", "/etc"], ExitStatus.noPermission, "system directory"),
        (["--target", "/nonexistent-burg-dir"], ExitStatus.noInput, "create the directory first"),
        (["--target", "TARGET", "--file-size", "100T"], ExitStatus.cantCreate, "too little free space"),
        (["--target", "TARGET", "--fio-option", "exec_prerun=touch /tmp/x"], ExitStatus.usage, "runs a program"),
        (["--target", "TARGET", "--file-size", "lots"], ExitStatus.usage, "--file-size"),
        (["--target", "TARGET", "--only", "nothing"], ExitStatus.usage, "no cdm workload matches"),
        (["--target", "TARGET", "--rounds", "0"], ExitStatus.usage, "rounds must be 1...100"),
        (["--target", "TARGET", "--noise-threshold", "-1"], ExitStatus.usage, "--noise-threshold"),
        (["--target", "TARGET", "--fio-option", "size=1T"], ExitStatus.usage, "Burg sizes the test file"),
    ])
    func badInputExitsWithAClearCodeAndChangesNothing(arguments: [String], status: Int32, message: String) throws {
        let dir = try TemporaryDirectory()
        try makeTarget(dir)
        let resolved = arguments.map { $0 == "TARGET" ? dir.path("target").string : $0 }
        let command = try ChildProcess(BuiltProducts.burg, ["bench", "run", "--data-dir", dir.path("data").string] + resolved)
        #expect(try command.wait() == status, "\(command.standardError)")
        #expect(command.standardError.contains(message), "\(command.standardError)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("data").string), "the data directory was created")
        #expect(testFiles(in: dir.path("target")).isEmpty)
    }

    @Test func theConfigFilesAllowListRefusesOtherTargets() throws {
        let dir = try TemporaryDirectory()
        try makeTarget(dir)
        let config = dir.path("burg.json")
        try AtomicFile.write(Array(#"{"bench": {"allowedTargets": ["/nonexistent/bench-area"]}}"#.utf8), to: config)
        let run = try ChildProcess(BuiltProducts.burg, [
            "bench", "run", "--config", config.string, "--data-dir", dir.path("data").string,
            "--target", dir.path("target").string, "--file-size", "8M", "--duration", "1",
        ])
        #expect(try run.wait() == ExitStatus.noPermission, "\(run.standardError)")
        #expect(run.standardError.contains("/nonexistent/bench-area"), "\(run.standardError)")
        #expect(testFiles(in: dir.path("target")).isEmpty)
    }

    @Test func runsAreStoredAndCanBeListedShownComparedAndExported() throws {
        let dir = try TemporaryDirectory()
        try makeTarget(dir)
        for _ in 0..<2 {
            let run = try ChildProcess.burg(
                "bench", "run", "--target", dir.path("target").string, "--data-dir", dir.path("data").string,
                "--file-size", "16M", "--duration", "0.3", "--ramp", "0.1", "--only", "RND4K Q1T1", "--json")
            #expect(try run.wait() == 0, "\(run.standardError)")
            let json = try JSONDecoder().decode(BenchRun.self, from: Data(run.lines.joined(separator: "\n").utf8))
            #expect(json.results.map(\.workload.name) == ["RND4K Q1T1 read", "RND4K Q1T1 write"])
            #expect(json.id != nil)
        }
        func burg(_ arguments: String...) throws -> [String] {
            let command = try ChildProcess(BuiltProducts.burg, arguments + ["--data-dir", dir.path("data").string])
            #expect(try command.wait() == 0, "\(arguments): \(command.standardError)")
            return command.lines
        }
        let history = try burg("bench", "history")
        #expect(history.count == 2 && history[0].hasPrefix("2\t") && history[1].hasPrefix("1\t"))
        let show = try burg("bench", "show", "1").joined(separator: "\n")
        #expect(show.contains("RND4K Q1T1 read") && show.contains("MB/s") && show.contains("MiB/s"))
        let compare = try burg("bench", "compare", "1", "2").joined(separator: "\n")
        #expect(compare.contains("RND4K Q1T1 write") && compare.contains("B/A"))
        let csv = try burg("bench", "export", "2", "--format", "csv")
        #expect(csv[0].hasPrefix("run,engine,workload,read_bytes,write_bytes") && csv[0].hasSuffix(",cached,round"))
        #expect(csv[1].hasPrefix("2,native,RND4K Q1T1 read,") && csv[1].hasSuffix(",false,0"))
        // Then, after a blank line, the summary per workload and engine.
        #expect(csv[3] == "" && csv[4].hasPrefix("run,engine,workload,rounds,median_bytes_per_second"), "\(csv)")
        #expect(csv.count == 7 && csv[5].hasPrefix("2,native,RND4K Q1T1 read,1,"))
        let exported = try burg("bench", "export", "2", "--format", "json").joined(separator: "\n")
        let run = try JSONDecoder().decode(BenchRun.self, from: Data(exported.utf8))
        #expect(run.id == 2 && !run.results[0].samples.isEmpty)
        #expect(run.machine.fileSystem == "ext4" || run.machine.fileSystem != nil)

        let missing = try ChildProcess.burg("bench", "show", "99", "--data-dir", dir.path("data").string)
        #expect(try missing.wait() == ExitStatus.noInput)
        #expect(missing.standardError.contains("there is no benchmark run 99"))
        // The database with BurgBench's tables still opens for the rest of Burg.
        let info = try ChildProcess.burg("db", "info", "--data-dir", dir.path("data").string)
        #expect(try info.wait() == 0, "\(info.standardError)")
    }

    @Test func theVideoPresetFindsTheStreamsASlowRateSustains() throws {
        let dir = try TemporaryDirectory()
        try makeTarget(dir)
        let run = try ChildProcess.burg(
            "bench", "run", "--preset", "video", "--target", dir.path("target").string, "--data-dir", dir.path("data").string,
            // A 250 ms frame period: generous enough that a busy shared disk (the whole suite runs at once)
            // does not make a frame late, while the pacing below still tells the clock from the disk.
            "--stream-rate", "1MB/s", "--fps", "4", "--streams", "3", "--duration", "1.5", "--json")
        #expect(try run.wait() == 0, "\(run.standardError)")
        let result = try JSONDecoder().decode(BenchRun.self, from: Data(run.lines.joined(separator: "\n").utf8))
        let video = try #require(result.video)
        #expect(video.steps.map(\.streams) == [1, 2, 3])
        #expect(video.sustainedStreams == 3)
        for step in video.steps {
            #expect(step.frames == UInt64(6 * step.streams))
            #expect(step.lateFrames == 0)
            // Paced by the frame clock: about the stream rate times the streams, not the disk's speed.
            #expect(step.bytesPerSecond < Double(step.streams) * 1_000_000 * 1.3)
        }
        #expect(testFiles(in: dir.path("target")).isEmpty)
    }

    @Test(.enabled(if: fioInstalled, "fio is not installed"))
    func theVideoPresetRunsThroughFioTooAndAnswersWhetherItWorks() throws {
        let dir = try TemporaryDirectory()
        try makeTarget(dir)
        let run = try ChildProcess.burg(
            "bench", "run", "--preset", "video", "--engine", "both", "--target", dir.path("target").string,
            "--data-dir", dir.path("data").string,
            "--stream-rate", "1MB/s", "--fps", "4", "--streams", "2", "--duration", "1.5", "--json")
        #expect(try run.wait() == 0, "\(run.standardError)")
        let result = try JSONDecoder().decode(BenchRun.self, from: Data(run.lines.joined(separator: "\n").utf8))
        let series = try #require(result.videoRuns)
        #expect(series.map { $0.engine } == [.native, .fio])
        let fio = try #require(series.last)
        #expect(fio.steps.map(\.streams) == [1, 2])
        for step in fio.steps {
            // 4 frames a second for 1.5 s per stream, paced by fio's rate limit rather than the disk.
            #expect((5...7).contains(step.frames / UInt64(step.streams)), "\(step)")
            #expect(step.bytesPerSecond < Double(step.streams) * 1_016_000 * 1.3, "\(step)")
            #expect(step.lateFrames == 0, "\(step)")
            #expect((step.worstFrame ?? 0) > 0)
        }
        let verdicts = try #require(result.summary?.video)
        #expect(verdicts.map(\.streams) == [1, 2])
        #expect(verdicts.allSatisfy { $0.answer != .no && $0.engines.map(\.engine) == [.native, .fio] }, "\(verdicts)")
        #expect(verdicts.allSatisfy { $0.engines.allSatisfy { ($0.margin ?? 0) > 1 } })
        #expect(testFiles(in: dir.path("target")).isEmpty)

        let show = try ChildProcess.burg("bench", "show", "\(result.id ?? 0)", "--data-dir", dir.path("data").string)
        #expect(try show.wait() == 0)
        let table = show.lines.joined(separator: "\n")
        #expect(table.contains("will it work?") && table.contains("native MB/s") && table.contains("fio MB/s") && table.contains("margin"), "\(table)")
    }

    @Test(.enabled(if: fioInstalled, "fio is not installed"))
    func roundsWithBothEnginesReportMediansRangesAndAVerdictEverywhere() throws {
        let dir = try TemporaryDirectory()
        try makeTarget(dir)
        let run = try ChildProcess.burg(
            "bench", "run", "--target", dir.path("target").string, "--data-dir", dir.path("data").string, "--engine", "both",
            "--rounds", "3", "--file-size", "16M", "--duration", "0.3", "--ramp", "0", "--only", "RND4K Q1T1 read")
        #expect(try run.wait() == 0, "\(run.standardError)")
        let table = run.lines.joined(separator: "\n")
        #expect(table.contains("3 rounds, engines and workloads interleaved"), "\(table)")
        #expect(table.contains("MB/s min-max") && table.contains("spread"))
        let ratioLine = try #require(run.lines.first { $0.contains("native/fio") && $0.hasPrefix("RND4K Q1T1 read") })
        #expect(Verdict.allCases.contains { ratioLine.hasSuffix($0.rawValue) }, "\(ratioLine)")

        let exported = try ChildProcess.burg("bench", "export", "1", "--format", "json", "--data-dir", dir.path("data").string)
        #expect(try exported.wait() == 0)
        let stored = try JSONDecoder().decode(BenchRun.self, from: Data(exported.lines.joined(separator: "\n").utf8))
        #expect(stored.results.count == 6)
        #expect(stored.results.map { $0.round ?? -1 } == [0, 0, 1, 1, 2, 2])
        #expect(stored.results.allSatisfy { !$0.samples.isEmpty })
        let summary = try #require(stored.summary)
        #expect(summary.rounds == 3)
        #expect(summary.figures.map(\.bytesPerSecond.count) == [3, 3])
        #expect(summary.comparisons.first?.ratio.count == 3)
        let compare = try ChildProcess.burg("bench", "compare", "1", "1", "--data-dir", dir.path("data").string)
        #expect(try compare.wait() == 0)
        // A run against itself: every round's ratio is 1, the same within noise.
        #expect(compare.lines.filter { $0.hasPrefix("RND4K Q1T1 read") }.allSatisfy { $0.contains("1.000-1.000") && $0.contains("same") }, "\(compare.lines)")
    }

    @Test func aRunWithOnlyATargetCreatesNoDataDirectoryAndSaysItWasNotStored() throws {
        let dir = try TemporaryDirectory()
        try makeTarget(dir)
        try FileManager.default.createDirectory(atPath: dir.path("cwd").string, withIntermediateDirectories: false)
        func burgIn(_ cwd: FilePath, _ arguments: String) throws -> ChildProcess {
            try ChildProcess(FilePath("/bin/sh"), ["-c", "cd '\(cwd.string)' && exec '\(BuiltProducts.burg.string)' \(arguments)"])
        }
        let target = dir.path("target").string
        // Refused: nothing created, neither in the current directory nor in the target.
        let refused = try burgIn(dir.path("cwd"), "bench run --target '\(target)' --rounds 0")
        #expect(try refused.wait() == ExitStatus.usage, "\(refused.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("cwd").string).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
        // Run: the results are printed; no ./burg_data appears.
        let run = try burgIn(dir.path("cwd"), "bench run --target '\(target)' --file-size 8M --duration 0.2 --ramp 0 --only 'RND4K Q1T1 read'")
        #expect(try run.wait() == 0, "\(run.standardError)")
        #expect(run.lines.contains { $0.hasPrefix("RND4K Q1T1 read") })
        #expect(run.standardError.contains("the run was not stored (no data directory: pass --data-dir DIR"), "\(run.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("cwd").string).isEmpty)
        // With ./burg_data present, the run is stored there.
        try FileManager.default.createDirectory(atPath: dir.path("cwd/burg_data").string, withIntermediateDirectories: false)
        let stored = try burgIn(dir.path("cwd"), "bench run --target '\(target)' --file-size 8M --duration 0.2 --ramp 0 --only 'RND4K Q1T1 read'")
        #expect(try stored.wait() == 0, "\(stored.standardError)")
        #expect(!stored.standardError.contains("not stored"))
        let history = try burgIn(dir.path("cwd"), "bench history")
        #expect(try history.wait() == 0)
        #expect(history.lines.count == 1 && history.lines[0].hasPrefix("1\t"), "\(history.lines)")
    }
}
