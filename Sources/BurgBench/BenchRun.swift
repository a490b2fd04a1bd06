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

    public init(preset: Preset, target: String) {
        self.preset = preset
        self.target = target
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
    /// cdm: one result per workload and engine, in the order they ran (with two engines, the first goes
    /// first on even-numbered workloads and second on odd-numbered ones).
    public var results: [BenchResult]
    public var video: VideoResult?
    public var verify: Verifier.Report?
    /// True when any figure went through the page cache.
    public var cached: Bool

    /// The result of `engine` for the workload named `name`.
    public func result(_ name: String, engine: Engine) -> BenchResult? {
        results.first { $0.workload.name == name && $0.engine == engine }
    }
}

/// A line of `burg bench history`.
public struct BenchRunSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var startedAt: Int64
    public var preset: Preset
    public var target: String
    public var engines: [Engine]
    public var cached: Bool
}

/// Milliseconds since 1970, now.
func unixMilliseconds() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1000).rounded())
}
