/// How much one figure moved over a run's rounds: the median, the smallest and largest value, and the
/// spread, `(max - min) / median` in percent.
///
/// Guarantees: `min <= median <= max`; `count` is the number of values it summarises (at least one);
/// with one value the spread is 0 and ``isMeasured`` is false, since one value says nothing about noise.
public struct Spread: Codable, Sendable, Equatable {
    public var median: Double
    public var min: Double
    public var max: Double
    public var count: Int

    /// Nil for no values; non-finite values are left out.
    public init?(_ values: [Double]) {
        let sorted = values.filter(\.isFinite).sorted()
        guard let first = sorted.first, let last = sorted.last else { return nil }
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        min = first
        max = last
        count = sorted.count
    }

    public init(median: Double, min: Double, max: Double, count: Int) {
        self.median = median
        self.min = min
        self.max = max
        self.count = count
    }

    /// `(max - min) / median` in percent; 0 when the median is 0.
    public var percent: Double { median > 0 ? (max - min) / median * 100 : 0 }

    /// True when there were at least two values, so that the range says something about noise.
    public var isMeasured: Bool { count >= 2 }

    /// Whether the median lies within `fraction` of `reference` (0.05: ±5 %).
    public func median(within fraction: Double, of reference: Double) -> Bool {
        reference > 0 && abs(median / reference - 1) <= fraction
    }

    /// True when this range and `other` share at least one value.
    public func overlaps(_ other: Spread) -> Bool { min <= other.max && other.min <= max }
}

/// What a ratio's range over paired rounds allows one to say: "faster" or "slower" only when every
/// round's ratio lies on the same side of 1, "same within noise" when the range contains 1, and nothing
/// when there was a single round (a single ratio cannot tell a difference from noise).
public enum Verdict: String, Codable, Sendable, CaseIterable {
    case sameWithinNoise = "same within noise"
    case faster
    case slower
    /// One round only: no range.
    case undetermined = "undetermined (one round)"

    /// The verdict on a ratio `B / A` of throughputs (higher is faster) whose paired rounds gave `ratios`.
    public init(ratios: Spread) {
        if !ratios.isMeasured {
            self = .undetermined
        } else if ratios.min > 1 {
            self = .faster
        } else if ratios.max < 1 {
            self = .slower
        } else {
            self = .sameWithinNoise
        }
    }
}
