/// One row of the video preset's "will it work?" table: can this disk carry `streams` streams of the
/// format, by each engine's measurement over every round, and with how much to spare.
///
/// Guarantees: "yes" only when every round of every engine ran that many streams without a late frame
/// and the smallest safety margin was at least ``comfortableMargin``; "tight" when no frame was late but
/// the margin was smaller; "no" when any round of any engine had a late frame at that count or at fewer
/// streams.
public struct VideoVerdict: Codable, Sendable, Equatable {
    public enum Answer: String, Codable, Sendable { case yes, tight, no }

    /// What one engine measured at this stream count over its rounds.
    public struct EngineFigures: Codable, Sendable, Equatable {
        public var engine: Engine
        /// Rounds that ran this stream count (rounds stop after the first step with late frames).
        public var rounds: Int
        /// Most late frames in one round (0 when none was late).
        public var lateFrames: UInt64
        /// The smallest safety margin over the rounds (``VideoStep/margin(period:)``); nil when unknown.
        public var margin: Double?
        /// Lowest throughput over the rounds.
        public var bytesPerSecond: Double
        /// True when a smaller stream count already had late frames in some round.
        public var failedEarlier: Bool
    }

    public var format: String
    public var streams: Int
    /// The rate `streams` streams need.
    public var neededBytesPerSecond: Double
    public var engines: [EngineFigures]
    public var answer: Answer

    /// Margins below this are "tight": a frame at most this many times slower would be late.
    public static let comfortableMargin = 1.5

    /// The rows for every stream count of the run's video preset (nil without one).
    static func rows(_ run: BenchRun) -> [VideoVerdict]? {
        let series = run.videoRuns ?? run.video.map { [$0] } ?? []
        guard let settings = series.first?.settings else { return nil }
        let period = 1e9 / settings.format.framesPerSecond
        return (1...settings.maxStreams).map { streams in
            var engines: [EngineFigures] = []
            for engine in Engine.allCases {
                let mine = series.filter { ($0.engine ?? .native) == engine }
                guard !mine.isEmpty else { continue }
                let steps = mine.compactMap { result in result.steps.first { $0.streams == streams } }
                let failedEarlier = mine.contains { result in result.steps.contains { $0.streams < streams && $0.lateFrames > 0 } }
                engines.append(EngineFigures(
                    engine: engine, rounds: steps.count, lateFrames: steps.map(\.lateFrames).max() ?? 0,
                    margin: steps.compactMap { $0.margin(period: period) }.min(),
                    bytesPerSecond: steps.map(\.bytesPerSecond).min() ?? 0, failedEarlier: failedEarlier))
            }
            let answer: Answer
            if engines.contains(where: { $0.lateFrames > 0 || $0.failedEarlier || $0.rounds == 0 }) {
                answer = .no
            } else if engines.contains(where: { ($0.margin ?? 0) < comfortableMargin }) {
                answer = .tight
            } else {
                answer = .yes
            }
            return VideoVerdict(
                format: settings.format.name, streams: streams,
                neededBytesPerSecond: Double(streams) * settings.format.bytesPerSecond, engines: engines, answer: answer)
        }
    }
}
