import Foundation

/// What a user asked for: preset, target, engines and their sizes and times.
public struct BenchSettings: Codable, Sendable, Equatable {
    public var preset: Preset
    public var target: String
    public var engines: [Engine] = [.native]
    /// Test file size (cdm) in bytes.
    public var fileSize: UInt64 = 1 << 30
    /// Measured seconds per workload.
    public var duration: Double = 5
    /// Seconds of I/O before each measurement, excluded from results.
    public var rampUp: Double = 1
    /// Run where direct I/O is impossible (tmpfs); results are then marked cached.
    public var allowCached = false
    /// Only the cdm workloads whose names start with one of these (empty: all eight).
    public var only: [String] = []
    /// The video preset's streams (required for `.video`).
    public var video: VideoSettings?
    /// Extra fio options (checked by ``FioOptions``).
    public var fioOptions: [String] = []
    /// After the workloads, write checksummed blocks over the whole file and read them back.
    public var verify = false
    /// How many times every workload runs on every engine (see ``BenchSchedule`` for the order).
    public var rounds = 1
    /// A figure whose spread over the rounds is above this many percent is marked noisy.
    public var noiseThreshold: Double = 10

    public init(preset: Preset, target: String) {
        self.preset = preset
        self.target = target
    }

    private enum CodingKeys: String, CodingKey {
        case preset, target, engines, fileSize, duration, rampUp, allowCached, only, video, fioOptions, verify
        case rounds, noiseThreshold
    }

    /// Reads stored settings; those stored before a setting existed get its default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        preset = try container.decode(Preset.self, forKey: .preset)
        target = try container.decode(String.self, forKey: .target)
        engines = try container.decodeIfPresent([Engine].self, forKey: .engines) ?? engines
        fileSize = try container.decodeIfPresent(UInt64.self, forKey: .fileSize) ?? fileSize
        duration = try container.decodeIfPresent(Double.self, forKey: .duration) ?? duration
        rampUp = try container.decodeIfPresent(Double.self, forKey: .rampUp) ?? rampUp
        allowCached = try container.decodeIfPresent(Bool.self, forKey: .allowCached) ?? allowCached
        only = try container.decodeIfPresent([String].self, forKey: .only) ?? only
        video = try container.decodeIfPresent(VideoSettings.self, forKey: .video)
        fioOptions = try container.decodeIfPresent([String].self, forKey: .fioOptions) ?? fioOptions
        verify = try container.decodeIfPresent(Bool.self, forKey: .verify) ?? verify
        rounds = try container.decodeIfPresent(Int.self, forKey: .rounds) ?? rounds
        noiseThreshold = try container.decodeIfPresent(Double.self, forKey: .noiseThreshold) ?? noiseThreshold
    }

    /// The cdm workloads this run measures.
    public var workloads: [Workload] {
        Preset.cdmWorkloads(fileSize: fileSize, duration: duration, rampUp: rampUp)
            .filter { workload in only.isEmpty || only.contains { workload.name.lowercased().hasPrefix($0.lowercased()) } }
    }
}

/// One benchmark run: its settings, the machine, and every engine's results. Stored by ``BenchHistory``.
public struct BenchRun: Codable, Sendable, Equatable {
    /// Assigned when stored.
    public var id: Int64?
    /// Milliseconds since 1970.
    public var startedAt: Int64
    public var finishedAt: Int64
    public var settings: BenchSettings
    /// The target as resolved (symlinks followed).
    public var target: String
    public var machine: MachineInfo
    /// cdm: one result per round, workload and engine, in the order they ran (``BenchSchedule``).
    public var results: [BenchResult]
    /// The video preset: the first stream series measured (kept for readers of older runs); every
    /// round's and engine's series are in ``videoRuns``.
    public var video: VideoResult?
    /// The video preset: one stream series per round and engine, in the order they ran.
    public var videoRuns: [VideoResult]?
    /// Medians, spreads, comparisons and flags over the rounds (nil in runs stored before rounds
    /// existed; ``summaryOrComputed`` computes it for those).
    public var summary: BenchSummary?
    public var verify: Verifier.Report?
    /// True when any figure went through the page cache.
    public var cached: Bool

    public init(
        id: Int64? = nil, startedAt: Int64, finishedAt: Int64, settings: BenchSettings, target: String, machine: MachineInfo,
        results: [BenchResult], video: VideoResult? = nil, videoRuns: [VideoResult]? = nil, verify: Verifier.Report? = nil,
        cached: Bool, summary: BenchSummary? = nil
    ) {
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.settings = settings
        self.target = target
        self.machine = machine
        self.results = results
        self.video = video
        self.videoRuns = videoRuns
        self.verify = verify
        self.cached = cached
        self.summary = summary
    }

    /// The result of `engine` for the workload named `name` in the first round.
    public func result(_ name: String, engine: Engine) -> BenchResult? {
        results.first { $0.workload.name == name && $0.engine == engine }
    }

    /// Every round's result of `engine` for the workload named `name`, in round order.
    public func results(_ name: String, engine: Engine) -> [BenchResult] {
        results.filter { $0.workload.name == name && $0.engine == engine }
    }

    /// The names of the run's workloads, in the order they first ran.
    public var workloadNames: [String] {
        results.reduce(into: [String]()) { if !$0.contains($1.workload.name) { $0.append($1.workload.name) } }
    }

    /// The engines with results, in the order of the settings.
    public var enginesMeasured: [Engine] {
        settings.engines.filter { engine in results.contains { $0.engine == engine } || (videoRuns ?? []).contains { $0.engine == engine } }
    }

    /// How many rounds the run measured.
    public var roundCount: Int {
        max(1, (results.compactMap(\.round).max() ?? 0) + 1, ((videoRuns ?? []).compactMap(\.round).max() ?? 0) + 1)
    }

    /// ``summary``, or for runs stored before summaries existed, one computed from their results.
    public var summaryOrComputed: BenchSummary { summary ?? BenchSummary(self) }
}

/// A line of `burg bench history`.
public struct BenchRunSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var startedAt: Int64
    public var preset: Preset
    public var target: String
    public var engines: [Engine]
    public var cached: Bool
    /// Rounds per workload (1 for runs stored before rounds existed).
    public var rounds: Int
    /// "noisy", "cached?" when any figure of the run was so marked.
    public var flags: [String]
}

/// Milliseconds since 1970, now.
func unixMilliseconds() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1000).rounded())
}
