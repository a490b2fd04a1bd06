import BurgBench
import Foundation
import Testing

/// A disk whose speed drifts over a run by a known amount, measured through a deliberately fake engine:
/// the nth measurement of the run (whichever engine takes it) sees `speed(n)` of the true rate. Both
/// "engines" are the same, so any difference between them is the drift's doing.
final class DriftingDisk {
    private(set) var clock = 0
    let speed: (Int) -> Double

    init(speed: @escaping (Int) -> Double) { self.speed = speed }

    func measure(_ step: BenchStep) -> BenchResult {
        defer { clock += 1 }
        // A different true rate per workload, the same for both engines.
        let trueRate = Double(step.workload.blockSize) * 1000 * Double(step.workload.queueDepth)
        let bytes = UInt64(trueRate * speed(clock))
        return BenchResult(
            engine: step.engine, workload: step.workload, readBytes: bytes, writeBytes: 0,
            readIOs: bytes / UInt64(step.workload.blockSize), writeIOs: 0, seconds: 1, latency: LatencySummary(),
            samples: [], cached: false, cpuNanoseconds: nil)
    }

    /// A run of `engines` with `rounds` rounds in ``BenchSchedule``'s order, measured on this disk.
    func run(engines: [Engine], rounds: Int) throws -> BenchRun {
        var settings = BenchSettings(preset: .cdm, target: "/drifting")
        settings.engines = engines
        settings.rounds = rounds
        let steps = BenchSchedule.steps(workloads: settings.workloads, engines: engines, rounds: rounds)
        let results = try BenchSchedule.run(steps) { step in self.measure(step) }
        return BenchRun(
            startedAt: 0, finishedAt: 0, settings: settings, target: "/drifting", machine: MachineInfo(processors: 2),
            results: results, cached: false)
    }
}

@Suite struct BenchRoundsTests {
    static let drifts: [(String, @Sendable (Int) -> Double)] = [
        // 0.5 % slower with every measurement: 40 % slower by the end of 80 measurements.
        ("linear", { 1 - 0.005 * Double($0) }),
        // 30 % slower from the middle of the run on (a neighbour starts, a cache fills).
        ("step", { $0 < 40 ? 1 : 0.7 }),
    ]

    @Test(arguments: 0..<2)
    func interleavedRoundsCancelADriftThatBackToBackRunsMistakeForADifference(drift: Int) throws {
        let (name, speed) = Self.drifts[drift]

        // Back to back: five rounds of one engine, then five of the other, compared as `bench compare` does.
        let disk = DriftingDisk(speed: speed)
        let first = try disk.run(engines: [.native], rounds: 5)
        let second = try disk.run(engines: [.fio], rounds: 5)
        #expect(disk.clock == 80)
        for workload in first.workloadNames {
            let comparison = try #require(BenchSummary.compare(
                workload, second.results(workload, engine: .fio), relativeTo: first.results(workload, engine: .native)))
            #expect(comparison.verdict == .slower, "\(name) \(workload): \(comparison)")
            #expect(comparison.ratio.median < 0.85, "\(name) \(workload): \(comparison.ratio)")
        }

        // Interleaved: one run of both engines, five rounds, on a disk drifting the same way.
        let interleaved = try DriftingDisk(speed: speed).run(engines: [.native, .fio], rounds: 5)
        let summary = BenchSummary(interleaved)
        #expect(summary.comparisons.count == 8)
        for comparison in summary.comparisons {
            #expect(comparison.verdict == .sameWithinNoise, "\(name) \(comparison.workload): \(comparison)")
            #expect(abs(comparison.ratio.median - 1) <= 0.006, "\(name) \(comparison.workload): \(comparison.ratio)")
            let native = try #require(summary.figures(comparison.workload, engine: .native))
            let fio = try #require(summary.figures(comparison.workload, engine: .fio))
            #expect(abs(native.bytesPerSecond.median / fio.bytesPerSecond.median - 1) <= 0.01, "\(name) \(comparison.workload)")
        }
    }

    @Test func theScheduleRunsRoundByRoundAndTheEnginesTakeTurnsGoingFirst() {
        let workloads = Array(Preset.cdmWorkloads(fileSize: 1 << 24, duration: 1, rampUp: 0).prefix(2))
        let steps = BenchSchedule.steps(workloads: workloads, engines: [.native, .fio], rounds: 2)
        let order = steps.map { "\($0.round) \($0.workload.name) \($0.engine.rawValue)" }
        #expect(order == [
            "0 SEQ1M Q8T1 read native", "0 SEQ1M Q8T1 read fio", "0 SEQ1M Q8T1 write fio", "0 SEQ1M Q8T1 write native",
            "1 SEQ1M Q8T1 read fio", "1 SEQ1M Q8T1 read native", "1 SEQ1M Q8T1 write native", "1 SEQ1M Q8T1 write fio",
        ])
        // One engine, three rounds: every workload once per round.
        let single = BenchSchedule.steps(workloads: workloads, engines: [.native], rounds: 3)
        #expect(single.map(\.round) == [0, 0, 1, 1, 2, 2])
    }

    @Test(arguments: [
        ([1.02, 1.05, 1.10], Verdict.faster),
        ([1.0001, 1.2], .faster),
        ([0.90, 0.95, 0.99], .slower),
        ([0.5, 0.9999], .slower),
        ([0.97, 1.0, 1.04], .sameWithinNoise),
        ([0.5, 1.5], .sameWithinNoise),
        ([0.8, 1.0], .sameWithinNoise),
        ([1.0, 1.25], .sameWithinNoise),
        ([1.0, 1.0], .sameWithinNoise),
        ([1.3], .undetermined),
        ([0.7], .undetermined),
    ])
    func theVerdictNamesADifferenceOnlyWhenTheWholeRangeIsOnOneSide(ratios: [Double], verdict: Verdict) throws {
        #expect(Verdict(ratios: try #require(Spread(ratios))) == verdict)
    }

    @Test func aSpreadIsTheRangeOverTheMedian() throws {
        let odd = try #require(Spread([3, 1, 2]))
        #expect(odd.median == 2 && odd.min == 1 && odd.max == 3 && odd.count == 3)
        #expect(odd.percent == 100)
        let even = try #require(Spread([10, 12, 8, 11]))
        #expect(even.median == 10.5 && abs(even.percent - 4 / 10.5 * 100) < 1e-9)
        let one = try #require(Spread([5]))
        #expect(!one.isMeasured && one.percent == 0)
        #expect(Spread([]) == nil && Spread([.nan]) == nil)
        #expect(Spread([1, .nan, 3])?.count == 2)
    }

    @Test func aFigureThatMovesMoreThanTheThresholdIsMarkedNoisyWithAHint() throws {
        // One engine, eight workloads per round: the first (SEQ1M Q8T1 read) moves 27 % between rounds,
        // every other 2 %.
        let disk = DriftingDisk { clock in
            let round = clock / 8
            return clock % 8 == 0 ? [1.0, 1.3, 1.1][round] : [1.0, 1.02, 1.01][round]
        }
        let run = try disk.run(engines: [.native], rounds: 3)
        let summary = BenchSummary(run)
        let noisy = try #require(summary.figures("SEQ1M Q8T1 read", engine: .native))
        let steady = try #require(summary.figures("SEQ1M Q8T1 write", engine: .native))
        #expect(noisy.noisy, "\(noisy.bytesPerSecond)")
        #expect(!steady.noisy, "\(steady.bytesPerSecond)")
        #expect(summary.figures.filter(\.noisy).count == 1)
        #expect(summary.flags == ["noisy"])
        let table = BenchReport.table(run)
        #expect(table.contains("noisy: SEQ1M Q8T1 read [native] moved"), "\(table)")
        #expect(table.contains("threshold 10 %"))
        #expect(table.contains(BenchSummary.noiseHint))
        #expect(!table.contains("noisy: SEQ1M Q8T1 write"))
    }
}
