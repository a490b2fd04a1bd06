import BurgCore
import Foundation
import Synchronization
import SystemPackage

/// The live progress line's figures, reported about once a second.
public struct BenchProgress: Sendable {
    /// "SEQ1M Q8T1 read", "video 3 streams", "prepare", "verify".
    public var phase: String
    public var engine: Engine
    public var bytesPerSecond: Double
    public var iops: Double
    public var elapsed: Double
    public var remaining: Double
}

/// Runs a benchmark from ``BenchSettings`` to ``BenchRun``: checks everything first (options, fio,
/// target, space), then runs every workload on every engine for each round, in ``BenchSchedule``'s
/// interleaved order, over one test file, summarises the rounds (``BenchSummary``), and removes the test
/// files whatever happens (success, error, cancellation).
public struct BenchRunner: Sendable {
    public var configuration: BenchConfiguration

    public init(configuration: BenchConfiguration = BenchConfiguration()) {
        self.configuration = configuration
    }

    /// Checks everything that can be refused (options, fio, settings, target, space) and takes the
    /// target's lock, before the first byte is written. Throws ``BenchError``; nothing is changed then.
    public func prepare(_ settings: BenchSettings) throws(BenchError) -> PreparedBench {
        let fioOptions = try FioOptions(settings.fioOptions)
        let fio = settings.engines.contains(.fio) ? try FioRunner(configuration: configuration, extraOptions: fioOptions) : nil
        let workloads = settings.workloads
        guard (1...100).contains(settings.rounds) else {
            throw BenchError(.invalidSettings, subject: "--rounds", detail: "rounds must be 1...100, not \(settings.rounds)")
        }
        guard settings.noiseThreshold > 0 && settings.noiseThreshold <= 1000 else {
            throw BenchError(.invalidSettings, subject: "--noise-threshold", detail: "the threshold must be more than 0 and at most 1000 %")
        }
        var bytesNeeded: UInt64
        switch settings.preset {
        case .cdm:
            guard !workloads.isEmpty else {
                throw BenchError(.invalidSettings, subject: "--only", detail: "no cdm workload matches \(settings.only)")
            }
            for workload in workloads { try workload.validate() }
            bytesNeeded = settings.fileSize
        case .video:
            guard let video = settings.video else {
                throw BenchError(.invalidSettings, subject: "video", detail: "the video preset needs a format and a stream count")
            }
            try video.validate()
            bytesNeeded = UInt64(video.maxStreams) * video.fileBytesPerStream
        }
        if settings.verify { bytesNeeded = max(bytesNeeded, settings.fileSize) }
        let target = try BenchTarget.acquire(
            FilePath(settings.target), configuration: configuration, bytesNeeded: bytesNeeded,
            allowCached: settings.allowCached)
        return PreparedBench(settings: settings, target: target, fio: fio)
    }

    /// ``prepare(_:)`` then ``PreparedBench/run(cancellation:progress:)``.
    public func run(
        _ settings: BenchSettings, cancellation: BenchCancellation = BenchCancellation(),
        progress: @escaping @Sendable (BenchProgress) -> Void = { _ in }
    ) throws(BenchError) -> BenchRun {
        try prepare(settings).run(cancellation: cancellation, progress: progress)
    }
}

/// A benchmark whose checks passed and whose target is locked; ``run(cancellation:progress:)`` measures.
public struct PreparedBench: Sendable {
    public let settings: BenchSettings
    public let target: BenchTarget
    let fio: FioRunner?

    /// Runs every round of every workload on every engine over one test file, and removes the test files
    /// and releases the target whatever happens (success, error, cancellation).
    public func run(
        cancellation: BenchCancellation = BenchCancellation(),
        progress: @escaping @Sendable (BenchProgress) -> Void = { _ in }
    ) throws(BenchError) -> BenchRun {
        defer {
            target.removeTestFiles()
            target.release()
        }
        let workloads = settings.workloads
        let direct = !target.cached
        var run = BenchRun(
            id: nil, startedAt: unixMilliseconds(), finishedAt: 0, settings: settings, target: target.directory.string,
            machine: MachineInfo.collect(for: target.directory, fileSystem: target.fileSystem), results: [],
            video: nil, verify: nil, cached: target.cached)

        switch settings.preset {
        case .cdm:
            let file = try target.makeTestFile("cdm", size: settings.fileSize, cancellation: cancellation)
            let steps = BenchSchedule.steps(workloads: workloads, engines: settings.engines, rounds: settings.rounds)
            run.results = try BenchSchedule.run(steps) { (step) throws(BenchError) in
                let live = LiveCounters()
                let workload = step.workload
                return try Ticker.reporting(
                    phase: workload.name + (settings.rounds > 1 ? " (round \(step.round + 1)/\(settings.rounds))" : ""),
                    engine: step.engine, total: workload.rampUp + workload.duration, live: live, progress: progress
                ) { () throws(BenchError) in
                    switch step.engine {
                    case .native:
                        try NativeEngine.run(
                            workload, file: file, direct: direct, cached: target.cached, cancellation: cancellation, live: live)
                    case .fio:
                        try fio!.run(
                            workload, file: file, direct: direct, cached: target.cached, cancellation: cancellation, live: live)
                    }
                }
            }
        case .video:
            let video = settings.video!
            var files: [FilePath] = []
            // Every round and engine streams from the same files, made once.
            let makeFile = { (stream: Int) throws(BenchError) -> FilePath in
                if stream < files.count { return files[stream] }
                let file = try target.makeTestFile("stream\(stream)", size: video.fileBytesPerStream, cancellation: cancellation)
                files.append(file)
                return file
            }
            var series: [VideoResult] = []
            for round in 0..<settings.rounds {
                for engine in round % 2 == 0 ? settings.engines : settings.engines.reversed() {
                    let live = LiveCounters()
                    var result = try Ticker.reporting(
                        phase: "video \(video.format.name)" + (settings.rounds > 1 ? " (round \(round + 1)/\(settings.rounds))" : ""),
                        engine: engine, total: video.duration * Double(video.maxStreams), live: live, progress: progress
                    ) { () throws(BenchError) in
                        try VideoStreams.run(video, engine: engine, cached: target.cached, makeFile: makeFile) {
                            (streams) throws(BenchError) in
                            switch engine {
                            case .native:
                                try VideoStreams.runStep(video, files: streams, direct: direct, cancellation: cancellation, live: live)
                            case .fio:
                                try fio!.videoStep(video, files: streams, direct: direct, cancellation: cancellation, live: live)
                            }
                        }
                    }
                    result.round = round
                    series.append(result)
                }
            }
            run.video = series.first
            run.videoRuns = series
        }
        if settings.verify {
            let file = try target.makeTestFile("verify", size: settings.fileSize, cancellation: cancellation)
            do {
                run.verify = try Verifier.run(file: file, size: settings.fileSize, blockSize: 1 << 20, direct: direct, cancellation: cancellation)
            } catch let error as BenchError {
                throw error
            } catch {
                throw BenchError(.io, subject: file.string, detail: "\(error)")
            }
        }
        run.finishedAt = unixMilliseconds()
        run.summary = BenchSummary(run)
        return run
    }
}

/// Calls `progress` about once a second while `body` runs, with rates since the previous tick.
enum Ticker {
    static func reporting<T>(
        phase: String, engine: Engine, total: Double, live: LiveCounters,
        progress: @escaping @Sendable (BenchProgress) -> Void, _ body: () throws(BenchError) -> T
    ) throws(BenchError) -> T {
        let stop = StopFlag()
        let finished = DispatchSemaphore(value: 0)
        let started = SystemIO.now()
        Thread.detachNewThread {
            var last = (time: started, bytes: UInt64(0), ios: UInt64(0))
            while !stop.isSet {
                usleep(100_000)
                let now = SystemIO.now()
                guard now - last.time >= 1_000_000_000 else { continue }
                // fio's interim reports can step back a little (jobs finishing); never report negative rates.
                let bytes = max(live.bytes, last.bytes), ios = max(live.ios, last.ios)
                let span = Double(now - last.time) / 1e9
                let elapsed = Double(now - started) / 1e9
                progress(BenchProgress(
                    phase: phase, engine: engine,
                    bytesPerSecond: Double(bytes - last.bytes) / span, iops: Double(ios - last.ios) / span,
                    elapsed: elapsed, remaining: max(0, total - elapsed)))
                last = (now, bytes, ios)
            }
            finished.signal()
        }
        defer {
            stop.set()
            finished.wait()
        }
        return try body()
    }

    final class StopFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        func set() { flag.store(true, ordering: .relaxed) }
        var isSet: Bool { flag.load(ordering: .relaxed) }
    }
}
