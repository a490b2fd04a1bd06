/// What a run's rounds add up to: per workload and engine the median of every figure with its range and
/// spread, marked noisy or "cached?" with the reason; with two engines, each workload's ratio
/// native / fio over the paired rounds with a ``Verdict``.
///
/// Guarantees: computed from the run's results alone (the same for a stored run as for a fresh one);
/// a figure is marked noisy only when it was measured at least twice and its spread is above the run's
/// threshold; a verdict other than "same within noise" or "undetermined" means every paired round's
/// ratio lay on that side of 1.
public struct BenchSummary: Codable, Sendable, Equatable {
    /// One workload on one engine over all rounds.
    public struct Figures: Codable, Sendable, Equatable {
        public var workload: Workload
        public var engine: Engine
        public var bytesPerSecond: Spread
        public var iops: Spread
        public var p50: Spread
        public var p99: Spread
        /// The median of each latency figure over the rounds.
        public var latency: LatencySummary
        /// Median engine CPU time per I/O, nanoseconds.
        public var cpuPerIO: Double?
        /// Spread of throughput above the run's noise threshold.
        public var noisy: Bool
        /// Why the figure looks like a cache's rather than the device's, when it does.
        public var cached: String?
    }

    /// Native relative to fio for one workload, from the rounds in which both ran.
    public struct Comparison: Codable, Sendable, Equatable {
        public var workload: String
        /// native / fio throughput, one ratio per paired round.
        public var ratio: Spread
        public var verdict: Verdict
    }

    public var rounds: Int
    public var noiseThreshold: Double
    public var figures: [Figures]
    /// Present with both engines.
    public var comparisons: [Comparison]
    /// The video preset's "will it work?" rows.
    public var video: [VideoVerdict]?

    /// Computes the summary of `run`.
    public init(_ run: BenchRun) {
        rounds = run.roundCount
        noiseThreshold = run.settings.noiseThreshold
        figures = []
        comparisons = []
        video = nil
        for name in run.workloadNames {
            for engine in Engine.allCases {
                let results = run.results(name, engine: engine)
                guard let first = results.first, let figures = Self.figures(results, workload: first.workload, engine: engine)
                else { continue }
                var marked = figures
                marked.noisy = figures.bytesPerSecond.isMeasured && figures.bytesPerSecond.percent > noiseThreshold
                self.figures.append(marked)
            }
            let native = run.results(name, engine: .native), fio = run.results(name, engine: .fio)
            if !native.isEmpty && !fio.isEmpty, let comparison = Self.compare(name, native, relativeTo: fio) {
                comparisons.append(comparison)
            }
        }
        CacheCheck.mark(&figures, machine: run.machine, memoryTarget: run.cached)
        video = VideoVerdict.rows(run)
    }

    /// B relative to A, for the same workload and engine in two runs (or two engines of one run): one
    /// ratio of throughput per round both have, paired by round number.
    public static func compare(_ name: String, _ b: [BenchResult], relativeTo a: [BenchResult]) -> Comparison? {
        var byRound: [Int: Double] = [:]
        for result in a { byRound[result.round ?? 0] = result.bytesPerSecond }
        let ratios = b.compactMap { result -> Double? in
            guard let base = byRound[result.round ?? 0], base > 0 else { return nil }
            return result.bytesPerSecond / base
        }
        guard let spread = Spread(ratios) else { return nil }
        return Comparison(workload: name, ratio: spread, verdict: Verdict(ratios: spread))
    }

    static func figures(_ results: [BenchResult], workload: Workload, engine: Engine) -> Figures? {
        guard let bytes = Spread(results.map(\.bytesPerSecond)), let iops = Spread(results.map(\.iops)),
              let p50 = Spread(results.map { Double($0.latency.p50) }), let p99 = Spread(results.map { Double($0.latency.p99) })
        else { return nil }
        func median(_ value: (LatencySummary) -> UInt64) -> UInt64 {
            UInt64(Spread(results.map { Double(value($0.latency)) })?.median ?? 0)
        }
        var latency = LatencySummary()
        latency.p50 = median(\.p50)
        latency.p90 = median(\.p90)
        latency.p99 = median(\.p99)
        latency.p999 = median(\.p999)
        latency.max = median(\.max)
        latency.mean = Spread(results.map(\.latency.mean))?.median ?? 0
        return Figures(
            workload: workload, engine: engine, bytesPerSecond: bytes, iops: iops, p50: p50, p99: p99, latency: latency,
            cpuPerIO: Spread(results.compactMap(\.cpuPerIO))?.median, noisy: false, cached: nil)
    }

    /// The figures of `engine` for the workload named `name`.
    public func figures(_ name: String, engine: Engine) -> Figures? {
        figures.first { $0.workload.name == name && $0.engine == engine }
    }

    /// "noisy" and "cached?" when any figure was so marked.
    public var flags: [String] {
        (figures.contains(where: \.noisy) ? ["noisy"] : []) + (figures.contains { $0.cached != nil } ? ["cached?"] : [])
    }

    /// What to do about a noisy figure.
    public static let noiseHint =
        "measure longer (--duration), over a bigger file (--file-size), with more --rounds, or on a quieter disk"

    /// What to do about a figure flagged "cached?".
    public static let cacheHint =
        "check with --verify and a --file-size larger than any cache in the path (several times the RAM of the machine or its host)"
}
