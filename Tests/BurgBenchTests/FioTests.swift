import BurgBench
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

@Suite struct FioOptionsTests {
    @Test(arguments: [
        ("bs=64k", "--bs=64k"), ("--iodepth=16", "--iodepth=16"), ("ioengine=io_uring", "--ioengine=io_uring"),
        ("ioengine=libaio", "--ioengine=libaio"), ("rw=randrw", "--rw=randrw"), ("rwmixread=70", "--rwmixread=70"),
        ("direct=1", "--direct=1"), ("fsync=1", "--fsync=1"), ("norandommap", "--norandommap"),
        ("rate=50m", "--rate=50m"), ("cpus_allowed=0-1", "--cpus_allowed=0-1"), ("verify=crc32c", "--verify=crc32c"),
        ("percentile_list=50:99.99", "--percentile_list=50:99.99"), ("runtime=500ms", "--runtime=500ms"),
        ("RW=read", "--rw=read"),
    ])
    func workloadOptionsPass(option: String, argument: String) throws {
        #expect(try FioOptions([option]).arguments == [argument])
    }

    @Test(arguments: [
        ("exec_prerun=rm -rf /", "runs a program"), ("--exec_postrun=/bin/sh", "runs a program"),
        ("ioengine=exec", "foreign code"), ("ioengine=external:/tmp/evil.so", "foreign code"),
        ("trigger=reboot", "triggered"), ("trigger-file=/tmp/x", "other than the test file"),
        ("trigger-timeout=1", "triggered"), ("server", "network"), ("client=host", "network"),
        ("daemonize", "network or detach"), ("include=/etc/fio.job", "other job files"),
        ("bs=${BS}", "expansions"), ("size=$mb_memory", "expansions"), ("write_bw_log=/tmp/bw", "other than the test file"),
        ("write_lat_log=x", "other than the test file"), ("write_iops_log=x", "other than the test file"),
        ("write_hist_log=x", "other than the test file"), ("write_iolog=x", "other than the test file"),
        ("read_iolog=x", "other than the test file"), ("output=/etc/passwd", "other than the test file"),
        ("filename=/dev/sda", "chosen and removed by Burg"), ("directory=/", "chosen and removed by Burg"),
        ("allow_mounted_write=1", "protection of mounted devices"), ("ioscheduler=none", "scheduler"),
        ("uid=0", "privileges"), ("gid=0", "privileges"), ("iolog_foo=1", "I/O logs"),
        ("bs=4k\n--exec_prerun=x", "control characters"), ("made_up_option=1", "not on the allow-list"),
        ("rw=trim", "unexpected value"), ("bs=../../x", "paths"), ("iodepth=many", "unexpected value"),
        ("norandommap=1", "unexpected value"), ("=1", "not an option name"),
    ])
    func dangerousOrUnknownOptionsAreRefusedWithTheReason(option: String, reason: String) {
        do {
            _ = try FioOptions([option])
            Issue.record("\(option) was accepted")
        } catch {
            #expect(error.code == .refusedFioOption)
            #expect(error.exitCode == 64)
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(error.description.contains(option))
        }
    }

    @Test func oneRefusedOptionRefusesTheRunBeforeAnythingIsWritten() throws {
        let dir = try TemporaryDirectory()
        var settings = quickSettings(dir.path)
        settings.fioOptions = ["bs=4k", "exec_prerun=touch \(dir.path("pwned").string)"]
        settings.engines = [.native, .fio]
        #expect(throws: BenchError.self) { try BenchRunner().prepare(settings) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path.string).isEmpty)
    }
}

@Suite struct FioOutputTests {
    static let workload = Workload(
        name: "t", pattern: .random, readPercent: 100, blockSize: 4096, queueDepth: 2, fileSize: 16 << 20,
        duration: 2, rampUp: 0.5)

    @Test func statusReportsAfterLeadingWarningsBecomeSamplesAndTheLastReportTheResult() throws {
        let text = try fixture("fio-3.33-randread-4k-2jobs-status-interval.json")
        #expect(text.hasPrefix("note: both iodepth >= 1 and synchronous I/O engine"))
        let result = try FioOutput.parse(text, workload: Self.workload, cached: false)
        #expect(result.engine == .fio)
        #expect(result.readBytes == 354_742_272)
        #expect(result.readIOs == 86_607)
        #expect(result.writeBytes == 0 && result.writeIOs == 0)
        #expect(result.seconds == 2.001)
        #expect(result.latency.p50 == 38_656)
        #expect(result.latency.p90 == 52_480)
        #expect(result.latency.p99 == 218_112)
        #expect(result.latency.p999 == 798_720)
        #expect(result.latency.max == 4_918_011)
        // Two status reports (844 ms, 1845 ms of runtime) and the final one 156 ms later, too short to rate.
        #expect(result.samples.map(\.second) == [1, 2])
        #expect(abs(result.samples[0].bytesPerSecond - 158_285_824 / 0.844) < 1)
        #expect(abs(result.samples[1].iops - Double(80_022 - 38_652) / 1.001) < 0.01)
        // CPU: (4.3 % + 27.75 %) of 2 jobs' total runtime.
        let jobRuntimeMs = try #require(Self.jobRuntime(text))
        #expect(result.cpuNanoseconds == UInt64((4.3 + 27.75) / 100 * Double(jobRuntimeMs) * 1_000_000))
    }

    @Test func aWriteReportWithAWarningReadsTheWriteSide() throws {
        let result = try FioOutput.parse(try fixture("fio-3.33-write-1m-1job.json"), workload: Self.workload, cached: false)
        #expect(result.writeBytes == 1_517_289_472 && result.writeIOs == 1447 && result.readBytes == 0)
        #expect(result.seconds == 1.001)
        #expect(result.latency.p50 == 489_472 && result.latency.p99 == 1_548_288 && result.latency.max == 2_509_094)
    }

    @Test func aMixedReportWeighsLatencyByIOCount() throws {
        let result = try FioOutput.parse(try fixture("fio-3.33-randrw70-4k-1job.json"), workload: Self.workload, cached: false)
        #expect(result.readIOs == 18_001 && result.writeIOs == 7812)
        #expect(result.readBytes == 73_732_096 && result.writeBytes == 31_997_952)
        let expected = (28_800.0 * 18_001 + 37_632.0 * 7812) / (18_001 + 7812)
        #expect(abs(Double(result.latency.p50) - expected) <= 1)
        #expect(result.latency.max == 3_467_526)
    }

    @Test(arguments: [
        "", "fio: unrecognized option '--bogus=1'\n", "note: x\n{\"jobs\": [", "{\"no\": \"jobs\"}",
        "{\"jobs\": [{\"jobname\": \"x\", \"error\": 5}]}",
    ])
    func outputWithoutAUsableReportIsAFioFailure(text: String) {
        #expect(throws: BenchError.self) { try FioOutput.parse(text, workload: Self.workload, cached: false) }
    }

    static func jobRuntime(_ text: String) -> Int? {
        guard let range = text.range(of: "\"job_runtime\" : ", options: .backwards) else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }
}

@Suite struct FioRunnerTests {
    /// A stand-in for fio: a shell script that fails `failures` times (counted in a file), then prints
    /// a recorded report after a warning; or sleeps forever.
    func fakeFio(_ dir: TemporaryDirectory, failures: Int, hang: Bool = false) throws -> FilePath {
        let script = dir.path("fake-fio")
        let report = try fixture("fio-3.33-randread-4k-2jobs-status-interval.json")
        try Data(report.utf8).write(to: URL(fileURLWithPath: dir.path("report.json").string))
        let text = """
            #!/bin/sh
            count=$(cat \(dir.path("count").string) 2>/dev/null || echo 0)
            echo $((count + 1)) > \(dir.path("count").string)
            \(hang ? "exec sleep 600" : "")
            if [ "$count" -lt \(failures) ]; then echo "fio: pretend failure" >&2; exit 1; fi
            echo "fio: a warning on stderr" >&2
            cat \(dir.path("report.json").string)
            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: script.string))
        chmod(script.string, 0o755)
        return script
    }

    func attempts(_ dir: TemporaryDirectory) -> Int {
        Int((try? String(contentsOfFile: dir.path("count").string, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0") ?? 0
    }

    @Test func aFailedFioRunIsRetriedOnceAfterABackoff() throws {
        let dir = try TemporaryDirectory()
        var configuration = BenchConfiguration()
        configuration.fioPath = try fakeFio(dir, failures: 1)
        var runner = try FioRunner(configuration: configuration)
        runner.retryBackoff = .milliseconds(200)
        let started = ContinuousClock.now
        let result = try runner.run(FioOutputTests.workload, file: dir.path("f"), direct: true, cached: false)
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect(attempts(dir) == 2)
        #expect(result.readIOs == 86_607)
    }

    @Test func fioFailingTwiceIsReportedWithItsStderr() throws {
        let dir = try TemporaryDirectory()
        var configuration = BenchConfiguration()
        configuration.fioPath = try fakeFio(dir, failures: 5)
        var runner = try FioRunner(configuration: configuration)
        runner.retryBackoff = .milliseconds(10)
        do {
            _ = try runner.run(FioOutputTests.workload, file: dir.path("f"), direct: true, cached: false)
            Issue.record("no error")
        } catch {
            #expect(error.code == .fioFailed)
            #expect(error.description.contains("fio: pretend failure"))
        }
        #expect(attempts(dir) == 2)
    }

    @Test func aHangingFioIsStoppedAtItsTimeout() throws {
        let dir = try TemporaryDirectory()
        var configuration = BenchConfiguration()
        configuration.fioPath = try fakeFio(dir, failures: 0, hang: true)
        configuration.fioGrace = .milliseconds(300)
        var runner = try FioRunner(configuration: configuration)
        runner.retryBackoff = .milliseconds(10)
        var workload = FioOutputTests.workload
        workload.duration = 0.2
        workload.rampUp = 0
        let started = ContinuousClock.now
        #expect(throws: BenchError.self) {
            try runner.run(workload, file: dir.path("f"), direct: true, cached: false)
        }
        // Two attempts of 0.5 s each, plus at most the SIGINT grace of each.
        #expect(ContinuousClock.now - started < .seconds(8))
        #expect(attempts(dir) == 2)
    }

    @Test(.enabled(if: fioInstalled, "fio is not installed"))
    func realFioAndTheNativeEngineRunTheSameWorkloadSideBySide() throws {
        let dir = try TemporaryDirectory()
        var settings = quickSettings(dir.path, only: ["RND4K Q1T1 read", "SEQ1M Q8T1 write"])
        settings.engines = [.native, .fio]
        let run = try BenchRunner().run(settings)
        // The engines take turns going first.
        #expect(run.results.map(\.engine) == [.native, .fio, .fio, .native])
        #expect(run.results.map(\.workload.name) == ["SEQ1M Q8T1 write", "SEQ1M Q8T1 write", "RND4K Q1T1 read", "RND4K Q1T1 read"])
        for result in run.results {
            #expect(result.ios > 0, "\(result.engine) \(result.workload.name)")
            #expect(result.seconds > 0.3 && result.seconds < 1.0, "\(result.engine) \(result.workload.name): \(result.seconds)")
            #expect(result.latency.p50 > 0 && result.latency.p99 >= result.latency.p50)
            #expect(!result.cached)
        }
        #expect(run.results[1].writeBytes > 0 && run.results[1].readBytes == 0)
        #expect(run.results[2].readBytes > 0 && run.results[2].writeBytes == 0)
        #expect(testFiles(in: dir.path).isEmpty)
    }
}
