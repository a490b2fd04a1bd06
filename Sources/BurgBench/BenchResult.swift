/// Which engine produced a result.
public enum Engine: String, Codable, Sendable, CaseIterable { case native, fio }

/// Latency percentiles of one workload, in nanoseconds.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var p50: UInt64 = 0
    public var p90: UInt64 = 0
    public var p99: UInt64 = 0
    public var p999: UInt64 = 0
    public var max: UInt64 = 0
    public var mean: Double = 0
    public init() {}
}

/// One second of a run, for charts.
public struct Sample: Codable, Sendable, Equatable {
    /// Seconds since measuring started (the second this sample ends).
    public var second: Int
    public var bytesPerSecond: Double
    public var iops: Double
    /// p99 latency of the I/Os completed in this second (nil where the engine does not report it per second).
    public var p99: UInt64?
    public init(second: Int, bytesPerSecond: Double, iops: Double, p99: UInt64?) {
        self.second = second
        self.bytesPerSecond = bytesPerSecond
        self.iops = iops
        self.p99 = p99
    }
}

/// What one engine measured for one workload, in exact units: bytes, bytes per second, nanoseconds.
/// Both engines fill the same fields, so results compare field by field.
public struct BenchResult: Codable, Sendable, Equatable {
    public var engine: Engine
    public var workload: Workload
    public var readBytes: UInt64
    public var writeBytes: UInt64
    public var readIOs: UInt64
    public var writeIOs: UInt64
    /// Length of the measured window (ramp-up excluded).
    public var seconds: Double
    public var latency: LatencySummary
    public var samples: [Sample]
    /// True when the data went through the page cache (no direct I/O): memory was measured, not a disk.
    public var cached: Bool
    /// CPU time (user + system) the engine spent in the measured window, when known.
    public var cpuNanoseconds: UInt64?
    /// The round (from 0) this result was measured in; nil in runs stored before rounds existed (one round).
    public var round: Int?

    public init(
        engine: Engine, workload: Workload, readBytes: UInt64, writeBytes: UInt64, readIOs: UInt64,
        writeIOs: UInt64, seconds: Double, latency: LatencySummary, samples: [Sample], cached: Bool,
        cpuNanoseconds: UInt64?, round: Int? = nil
    ) {
        self.engine = engine
        self.workload = workload
        self.readBytes = readBytes
        self.writeBytes = writeBytes
        self.readIOs = readIOs
        self.writeIOs = writeIOs
        self.seconds = seconds
        self.latency = latency
        self.samples = samples
        self.cached = cached
        self.cpuNanoseconds = cpuNanoseconds
        self.round = round
    }

    public var bytes: UInt64 { readBytes + writeBytes }
    public var ios: UInt64 { readIOs + writeIOs }
    public var bytesPerSecond: Double { seconds > 0 ? Double(bytes) / seconds : 0 }
    public var iops: Double { seconds > 0 ? Double(ios) / seconds : 0 }
    /// Engine CPU time per I/O in nanoseconds.
    public var cpuPerIO: Double? {
        guard let cpuNanoseconds, ios > 0 else { return nil }
        return Double(cpuNanoseconds) / Double(ios)
    }
}

/// Throughput units. Burg always stores bytes per second and prints both decimal and binary units,
/// labelled, because tools disagree (some divide KiB/s by 1000 and call it MB/s).
public enum ThroughputUnit: String, Codable, Sendable, CaseIterable {
    /// Megabytes per second: 10^6 bytes.
    case megabytes = "MB/s"
    /// Mebibytes per second: 2^20 bytes.
    case mebibytes = "MiB/s"

    public var bytes: Double { self == .megabytes ? 1_000_000 : 1_048_576 }

    public func format(_ bytesPerSecond: Double) -> String {
        formatFixed(bytesPerSecond / bytes, decimals: 1) + " " + rawValue
    }
}

/// "12.3" without Foundation's locale-dependent formatting.
func formatFixed(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "-" }
    guard abs(value) < 1e15 else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled) - whole * Int(scale)
    var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
    if decimals > 0 {
        let digits = String(fraction)
        text += "." + String(repeating: "0", count: decimals - digits.count) + digits
    }
    return text
}

/// "113 µs", "1.25 ms" for nanoseconds.
func formatLatency(_ nanoseconds: UInt64) -> String {
    let value = Double(nanoseconds)
    if value < 1_000 { return "\(nanoseconds) ns" }
    if value < 1_000_000 { return formatFixed(value / 1_000, decimals: value < 10_000 ? 1 : 0) + " µs" }
    if value < 1_000_000_000 { return formatFixed(value / 1_000_000, decimals: 2) + " ms" }
    return formatFixed(value / 1e9, decimals: 2) + " s"
}
