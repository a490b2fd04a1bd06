import BurgCore
import Foundation
import Histogram
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Burg's own I/O engine: `queueDepth` threads, each issuing one synchronous `pread`/`pwrite` at a time
/// (fio's `psync` engine with `numjobs = queueDepth`).
///
/// Guarantees: every byte counted was transferred by a completed system call of the full block size
/// (short transfers are errors, not partial counts); I/Os completing during the ramp-up are excluded from
/// every figure; each I/O's latency (system call entry to return) is recorded in an HdrHistogram.
public enum NativeEngine {
    /// Runs `workload` on the existing, pre-filled file `file`.
    public static func run(
        _ workload: Workload, file: FilePath, direct: Bool, cached: Bool,
        cancellation: BenchCancellation = BenchCancellation(), live: LiveCounters = LiveCounters()
    ) throws(BenchError) -> BenchResult {
        try workload.validate()
        if workload.byteLimit != nil && workload.rampUp > 0 {
            throw BenchError(.invalidSettings, subject: workload.name, detail: "a byte limit needs ramp-up 0")
        }
        let start = SystemIO.now()
        let measureStart = start + UInt64(workload.rampUp * 1e9)
        let end = measureStart + UInt64(workload.duration * 1e9)
        let budget = workload.byteLimit.map { ByteBudget($0) }
        let plan = Plan(
            workload: workload, file: file, direct: direct, measureStart: measureStart, end: end,
            cancellation: cancellation, live: live)

        let workers = (0..<workload.queueDepth).map { Worker(index: $0) }
        let done = DispatchGroup()
        for worker in workers {
            done.enter()
            let thread = Thread {
                worker.run(plan, budget: budget)
                done.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        done.wait()

        if let failure = workers.lazy.compactMap(\.failure).first { throw failure }
        if cancellation.isCancelled { throw BenchError(.interrupted, subject: file.removingLastComponent().string) }
        return merge(workers, plan: plan, cached: cached)
    }

    private static func merge(_ workers: [Worker], plan: Plan, cached: Bool) -> BenchResult {
        var histogram = Worker.makeHistogram(digits: .three)
        var perSecond: [Int: (bytes: UInt64, ios: UInt64, histogram: Histogram<UInt64>)] = [:]
        var readBytes: UInt64 = 0, writeBytes: UInt64 = 0, readIOs: UInt64 = 0, writeIOs: UInt64 = 0
        var cpu: UInt64 = 0
        var last = plan.measureStart
        for worker in workers {
            histogram.add(worker.histogram)
            readBytes += worker.readBytes
            writeBytes += worker.writeBytes
            readIOs += worker.readIOs
            writeIOs += worker.writeIOs
            cpu += worker.cpuNanoseconds
            last = max(last, worker.lastCompletion)
            for (second, bucket) in worker.seconds.enumerated() where bucket.ios > 0 {
                var merged = perSecond[second] ?? (0, 0, Worker.makeHistogram(digits: .two))
                merged.bytes += bucket.bytes
                merged.ios += bucket.ios
                merged.histogram.add(bucket.histogram)
                perSecond[second] = merged
            }
        }
        let seconds = Double(last - plan.measureStart) / 1e9
        let samples = perSecond.keys.sorted().map { second in
            let bucket = perSecond[second]!
            // The last second may be partial: rate over the part of it that was measured.
            let span = min(1.0, max(seconds - Double(second), 1e-3))
            return Sample(
                second: second + 1, bytesPerSecond: Double(bucket.bytes) / span, iops: Double(bucket.ios) / span,
                p99: bucket.histogram.valueAtPercentile(99))
        }
        return BenchResult(
            engine: .native, workload: plan.workload, readBytes: readBytes, writeBytes: writeBytes,
            readIOs: readIOs, writeIOs: writeIOs, seconds: seconds, latency: histogram.summary, samples: samples,
            cached: cached, cpuNanoseconds: cpu)
    }

    struct Plan: Sendable {
        var workload: Workload
        var file: FilePath
        var direct: Bool
        var measureStart: UInt64
        var end: UInt64
        var cancellation: BenchCancellation
        var live: LiveCounters
    }
}

extension Histogram<UInt64> {
    var summary: LatencySummary {
        var summary = LatencySummary()
        guard totalCount > 0 else { return summary }
        summary.p50 = valueAtPercentile(50)
        summary.p90 = valueAtPercentile(90)
        summary.p99 = valueAtPercentile(99)
        summary.p999 = valueAtPercentile(99.9)
        summary.max = max
        summary.mean = mean
        return summary
    }
}

/// One I/O thread's state. `@unchecked Sendable` is safe because a worker is mutated only by the one
/// thread that runs it, and read by the coordinator only after `DispatchGroup.wait()` returned, which
/// orders those reads after every write of the thread.
private final class Worker: @unchecked Sendable {
    struct SecondBucket {
        var bytes: UInt64 = 0
        var ios: UInt64 = 0
        var histogram = Worker.makeHistogram(digits: .two)
    }

    let index: Int
    var histogram = Worker.makeHistogram(digits: .three)
    var seconds: [SecondBucket] = []
    var readBytes: UInt64 = 0
    var writeBytes: UInt64 = 0
    var readIOs: UInt64 = 0
    var writeIOs: UInt64 = 0
    var cpuNanoseconds: UInt64 = 0
    var lastCompletion: UInt64 = 0
    var failure: BenchError?

    init(index: Int) { self.index = index }

    /// Latencies from 1 ns to 60 s.
    static func makeHistogram(digits: SignificantDigits) -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: digits)
    }

    func run(_ plan: NativeEngine.Plan, budget: ByteBudget?) {
        let workload = plan.workload
        let blockSize = workload.blockSize
        let fd: Int32
        do {
            fd = try SystemIO.openFile(plan.file, direct: plan.direct)
        } catch {
            failure = error
            return
        }
        defer { close(fd) }
        var random = FastRandom(seed: UInt64(truncatingIfNeeded: SystemIO.now()) &+ UInt64(index) &* 0x9E37_79B9)
        let buffer = SystemIO.randomBuffer(blockSize, seed: random.next())
        defer { free(buffer) }
        let stamp = buffer.bindMemory(to: UInt64.self, capacity: blockSize / 8)
        let pages = max(1, blockSize / 4096)

        let region = workload.regionSize
        let blocks = region / UInt64(blockSize)
        let regionStart = workload.pattern == .sequential ? UInt64(index) * region : 0
        var nextBlock: UInt64 = 0
        var measuring = false
        var cpuAtMeasureStart = SystemIO.threadCPUTime()
        var writes: UInt64 = 0

        while !plan.cancellation.isCancelled {
            let issued = SystemIO.now()
            if issued >= plan.end { break }
            // Reserve this I/O's bytes first, so that all threads together stop at exactly the limit.
            if let budget, !budget.reserve(UInt64(blockSize)) { break }
            let block: UInt64
            switch workload.pattern {
            case .sequential:
                block = nextBlock
                nextBlock = nextBlock + 1 == blocks ? 0 : nextBlock + 1
            case .random:
                block = random.next() % blocks
            }
            let offset = off_t(regionStart + block * UInt64(blockSize))
            let isRead = workload.readPercent == 100 || (workload.readPercent > 0 && Int(random.next() % 100) < workload.readPercent)
            if !isRead {
                // A fresh word in every 4 KiB of every write keeps deduplicating storage from recognising
                // blocks (like fio's scramble_buffers); the rest stays random, so nothing compresses.
                writes &+= 1
                let word = writes ^ random.next()
                for page in 0..<pages { stamp[page * 512] = word &+ UInt64(page) }
            }
            let start = SystemIO.now()
            let count = isRead ? pread(fd, buffer, blockSize, offset) : pwrite(fd, buffer, blockSize, offset)
            let completed = SystemIO.now()
            if count != blockSize {
                let error = errno
                if count == -1 && error == EINTR { continue }
                failure = count < 0
                    ? SystemIO.ioError(plan.file, isRead ? "pread" : "pwrite", error)
                    : BenchError(.io, subject: plan.file.string, detail: "short \(isRead ? "read" : "write") of \(count) of \(blockSize) bytes at \(offset)")
                return
            }
            guard completed >= plan.measureStart else { continue }
            if !measuring {
                measuring = true
                cpuAtMeasureStart = SystemIO.threadCPUTime()
            }
            let latency = completed - start
            histogram.record(latency)
            let second = Int((completed - plan.measureStart) / 1_000_000_000)
            while seconds.count <= second { seconds.append(SecondBucket()) }
            seconds[second].bytes += UInt64(blockSize)
            seconds[second].ios += 1
            seconds[second].histogram.record(latency)
            if isRead {
                readBytes += UInt64(blockSize)
                readIOs += 1
            } else {
                writeBytes += UInt64(blockSize)
                writeIOs += 1
            }
            lastCompletion = completed
            plan.live.add(bytes: UInt64(blockSize))
        }
        if measuring { cpuNanoseconds = SystemIO.threadCPUTime() - cpuAtMeasureStart }
    }
}
