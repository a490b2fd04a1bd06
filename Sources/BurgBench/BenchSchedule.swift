/// One measurement of a run: `workload` on `engine` in round `round` (counted from 0).
public struct BenchStep: Sendable, Equatable {
    public var round: Int
    public var workload: Workload
    public var engine: Engine

    public init(round: Int, workload: Workload, engine: Engine) {
        self.round = round
        self.workload = workload
        self.engine = engine
    }
}

/// The order in which a run measures: round by round, and within a round workload by workload, each
/// workload on every engine right after each other, the engine that goes first taking turns from one
/// workload and one round to the next.
///
/// Why: a disk's speed drifts (host caches filling, background flushes, neighbours on a shared host,
/// thermal limits). Measured back to back — all rounds of one engine, then all of the other — the drift
/// between the two halves shows up as a difference between the engines. Interleaved, the two halves of
/// each pair are seconds apart, and since each engine goes first as often as second, what drift is left
/// within a pair pushes half the paired ratios up and half down, so their median stays put.
public enum BenchSchedule {
    /// Every workload `rounds` times on every engine, in the order described above.
    public static func steps(workloads: [Workload], engines: [Engine], rounds: Int) -> [BenchStep] {
        var steps: [BenchStep] = []
        for round in 0..<max(1, rounds) {
            for (index, workload) in workloads.enumerated() {
                let order = (round + index) % 2 == 0 ? engines : engines.reversed()
                for engine in order { steps.append(BenchStep(round: round, workload: workload, engine: engine)) }
            }
        }
        return steps
    }

    /// Runs `steps` in order through `measure`, and returns the results in that order, each marked with
    /// its round. Stops at the first error.
    public static func run(
        _ steps: [BenchStep], measure: (BenchStep) throws(BenchError) -> BenchResult
    ) throws(BenchError) -> [BenchResult] {
        var results: [BenchResult] = []
        results.reserveCapacity(steps.count)
        for step in steps {
            var result = try measure(step)
            result.round = step.round
            results.append(result)
        }
        return results
    }
}
