/// One I/O pattern to measure: what to read or write, in which block size, how many at once, for how long.
///
/// Both engines run exactly this description: the native engine as `queueDepth` threads of synchronous
/// `pread`/`pwrite`, fio as `numjobs = queueDepth` jobs of `ioengine=psync`, so that their figures compare.
public struct Workload: Codable, Sendable, Hashable {
    public enum Pattern: String, Codable, Sendable, CaseIterable { case sequential, random }

    /// Short name, e.g. "SEQ1M Q8T1 read".
    public var name: String
    public var pattern: Pattern
    /// Share of I/Os that are reads, 0...100 (100: read only, 0: write only).
    public var readPercent: Int
    /// Bytes per I/O; a multiple of 4096 for direct I/O.
    public var blockSize: Int
    /// I/Os in flight: this many threads each issue one synchronous I/O at a time.
    public var queueDepth: Int
    /// Size of the test file in bytes. Sequential threads each own a `fileSize / queueDepth` region;
    /// random threads roam the whole file.
    public var fileSize: UInt64
    /// Measured time in seconds, after `rampUp`.
    public var duration: Double
    /// Seconds of I/O before measuring starts; excluded from every figure.
    public var rampUp: Double
    /// Stop after this many bytes in the measured window (all threads together), before `duration` if
    /// reached first. For exact-count checks; nil for time-based runs.
    public var byteLimit: UInt64?

    public init(
        name: String, pattern: Pattern, readPercent: Int, blockSize: Int, queueDepth: Int,
        fileSize: UInt64, duration: Double, rampUp: Double, byteLimit: UInt64? = nil
    ) {
        self.name = name
        self.pattern = pattern
        self.readPercent = readPercent
        self.blockSize = blockSize
        self.queueDepth = queueDepth
        self.fileSize = fileSize
        self.duration = duration
        self.rampUp = rampUp
        self.byteLimit = byteLimit
    }

    /// Bytes each thread works on: sequential threads split the file, random ones share all of it.
    var regionSize: UInt64 {
        switch pattern {
        case .sequential:
            let region = fileSize / UInt64(queueDepth)
            return region - region % UInt64(blockSize)
        case .random:
            return fileSize - fileSize % UInt64(blockSize)
        }
    }

    /// Checks what both engines need; throws ``BenchError`` with `.invalidSettings`.
    public func validate() throws(BenchError) {
        func fail(_ reason: String) throws(BenchError) {
            throw BenchError(.invalidSettings, subject: name, detail: reason)
        }
        if !(0...100).contains(readPercent) { try fail("read share must be 0...100 %, not \(readPercent)") }
        if blockSize < 512 || blockSize % 512 != 0 { try fail("block size must be a multiple of 512 bytes, not \(blockSize)") }
        if !(1...256).contains(queueDepth) { try fail("queue depth must be 1...256, not \(queueDepth)") }
        if regionSize < UInt64(blockSize) {
            try fail("file size \(fileSize) bytes leaves less than one \(blockSize)-byte block per thread")
        }
        if !(duration > 0 && duration <= 86_400) { try fail("duration must be more than 0 and at most a day") }
        if !(rampUp >= 0 && rampUp <= 3_600) { try fail("ramp-up must be 0...3600 s") }
    }
}

/// Named sets of workloads.
public enum Preset: String, Codable, Sendable, CaseIterable {
    /// CrystalDiskMark's default set: SEQ1M Q8T1, SEQ1M Q1T1, RND4K Q32T1, RND4K Q1T1, each read and write.
    case cdm
    /// N concurrent video streams paced by a frame clock (see ``VideoSettings``).
    case video

    /// CrystalDiskMark's eight measurements over one file.
    public static func cdmWorkloads(fileSize: UInt64, duration: Double, rampUp: Double) -> [Workload] {
        let shapes: [(String, Workload.Pattern, Int, Int)] = [
            ("SEQ1M Q8T1", .sequential, 1 << 20, 8), ("SEQ1M Q1T1", .sequential, 1 << 20, 1),
            ("RND4K Q32T1", .random, 4096, 32), ("RND4K Q1T1", .random, 4096, 1),
        ]
        return shapes.flatMap { name, pattern, blockSize, depth in
            [(" read", 100), (" write", 0)].map { suffix, readPercent in
                Workload(
                    name: name + suffix, pattern: pattern, readPercent: readPercent, blockSize: blockSize,
                    queueDepth: depth, fileSize: fileSize, duration: duration, rampUp: rampUp)
            }
        }
    }
}
