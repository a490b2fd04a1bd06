import BurgBench
import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

@Suite struct CacheCheckTests {
    /// A run whose results are `rates` (bytes per second, by workload name) on `machine`, three rounds.
    func run(_ rates: [String: Double], machine: MachineInfo, engine: Engine = .fio) -> BenchRun {
        var settings = BenchSettings(preset: .cdm, target: "/t")
        settings.engines = [engine]
        var results: [BenchResult] = []
        for round in 0..<3 {
            for workload in settings.workloads {
                guard let rate = rates[workload.name] else { continue }
                let bytes = UInt64(rate)
                results.append(BenchResult(
                    engine: engine, workload: workload, readBytes: workload.readPercent == 100 ? bytes : 0,
                    writeBytes: workload.readPercent == 100 ? 0 : bytes, readIOs: bytes / UInt64(workload.blockSize), writeIOs: 0,
                    seconds: 1, latency: LatencySummary(), samples: [], cached: false, cpuNanoseconds: nil, round: round))
            }
        }
        return BenchRun(startedAt: 0, finishedAt: 0, settings: settings, target: "/t", machine: machine, results: results, cached: false)
    }

    func machine(transport: String?, rotational: Bool? = false, link: Double? = nil) -> MachineInfo {
        var machine = MachineInfo(processors: 2)
        machine.device = "x"
        machine.transport = transport
        machine.rotational = rotational
        machine.linkBytesPerSecond = link
        machine.link = link.map { _ in "8.0 GT/s PCIe x4" }
        return machine
    }

    @Test func aResultAboveWhatTheDevicesLinkCarriesIsFlaggedCachedWithTheReason() throws {
        // 2 GB/s of reads from a SATA disk (its link carries 600 MB/s).
        let summary = BenchSummary(run(["SEQ1M Q8T1 read": 2e9, "RND4K Q1T1 read": 50e6], machine: machine(transport: "sata")))
        let fast = try #require(summary.figures("SEQ1M Q8T1 read", engine: .fio))
        #expect(fast.cached?.contains("2000.0 MB/s is more than a SATA link (600 MB/s) can carry") == true, "\(String(describing: fast.cached))")
        #expect(summary.figures("RND4K Q1T1 read", engine: .fio)?.cached == nil)
        #expect(summary.flags == ["cached?"])
        let table = BenchReport.table(run(["SEQ1M Q8T1 read": 2e9], machine: machine(transport: "sata")))
        #expect(table.contains("cached?: SEQ1M Q8T1 read [fio]: 2000.0 MB/s is more than a SATA link"), "\(table)")
        #expect(table.contains("--verify") && table.contains("--file-size"))
    }

    @Test(arguments: [
        // (transport, rotational, link bytes/s, rate, flagged)
        ("nvme", false, 3.94e9, 5e9, true), ("nvme", false, 3.94e9, 3.5e9, false),
        ("virtio", false, nil, 20e9, true), ("virtio", false, nil, 1.5e9, false),
        ("scsi", true, nil, 900e6, true), ("scsi", true, nil, 200e6, false),
    ] as [(String, Bool, Double?, Double, Bool)])
    func theLimitFollowsTheDevice(transport: String, rotational: Bool, link: Double?, rate: Double, flagged: Bool) {
        let summary = BenchSummary(run(["SEQ1M Q1T1 read": rate], machine: machine(transport: transport, rotational: rotational, link: link)))
        #expect((summary.figures.first?.cached != nil) == flagged, "\(String(describing: summary.figures.first?.cached))")
    }

    @Test func writesMuchFasterThanReadsOfTheSameShapeAreFlaggedAsIgnoringODirect() throws {
        // As seen on a virtual disk: SEQ1M Q8T1 write 7 GB/s, read 1.5 GB/s.
        let summary = BenchSummary(run(
            ["SEQ1M Q8T1 read": 1.5e9, "SEQ1M Q8T1 write": 7e9, "SEQ1M Q1T1 read": 1.4e9, "SEQ1M Q1T1 write": 1.3e9],
            machine: machine(transport: "virtio")))
        let write = try #require(summary.figures("SEQ1M Q8T1 write", engine: .fio))
        #expect(write.cached?.contains("writes ran 4.7× as fast as reads of the same shape (SEQ1M Q8T1 read)") == true, "\(String(describing: write.cached))")
        #expect(write.cached?.contains("O_DIRECT") == true)
        #expect(summary.figures("SEQ1M Q8T1 read", engine: .fio)?.cached == nil)
        #expect(summary.figures("SEQ1M Q1T1 write", engine: .fio)?.cached == nil)
    }

    @Test func smallRandomIOFasterThanASpinningDiskSeeksIsFlagged() throws {
        // 40 MB/s of 4 KiB random reads is about 10,000 IOPS: no spinning disk does that.
        let summary = BenchSummary(run(["RND4K Q1T1 read": 40e6, "RND4K Q32T1 read": 1.6e6], machine: machine(transport: "sata", rotational: true)))
        #expect(summary.figures("RND4K Q1T1 read", engine: .fio)?.cached?.contains("spinning disk") == true)
        #expect(summary.figures("RND4K Q32T1 read", engine: .fio)?.cached == nil)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/shm")))
    func aTmpfsTargetRunWithAllowCachedMarksEveryFigureCachedWithTheReason() throws {
        let target = FilePath("/dev/shm/burg-cache-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(atPath: target.string, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: target.string) }
        let dir = try TemporaryDirectory()
        let command = try ChildProcess.burg(
            "bench", "run", "--target", target.string, "--data-dir", dir.path("data").string, "--allow-cached",
            "--rounds", "2", "--file-size", "8M", "--duration", "0.2", "--ramp", "0", "--only", "RND4K Q1T1")
        #expect(try command.wait() == 0, "\(command.standardError)")
        let output = command.lines.joined(separator: "\n")
        for workload in ["RND4K Q1T1 read", "RND4K Q1T1 write"] {
            #expect(output.contains("cached?: \(workload) [native]: the target's file system (tmpfs) keeps files in memory"), "\(output)")
        }
        #expect(output.contains("CACHED (no direct I/O)"))
        // Without --allow-cached the same target is refused.
        let refused = try ChildProcess.burg(
            "bench", "run", "--target", target.string, "--data-dir", dir.path("data").string, "--file-size", "8M")
        #expect(try refused.wait() == ExitStatus.unavailable)
        #expect(refused.standardError.contains("--allow-cached"))
        // The stored run carries the flag.
        let history = try ChildProcess.burg("bench", "history", "--data-dir", dir.path("data").string)
        #expect(try history.wait() == 0)
        #expect(history.lines.first?.contains("2 rounds") == true && history.lines.first?.contains("cached?") == true, "\(history.lines)")
    }
}
