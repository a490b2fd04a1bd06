import ArgumentParser
import BurgCore
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds on the monotonic clock.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// p50/p99/mean of a sample set, exact (sorted), in nanoseconds.
struct LatencySummary: Encodable {
    var samples: Int
    var p50: UInt64
    var p99: UInt64
    var mean: Double

    init(_ values: [UInt64]) {
        let sorted = values.sorted()
        samples = sorted.count
        p50 = sorted[sorted.count / 2]
        p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
        mean = Double(sorted.reduce(0, +)) / Double(sorted.count)
    }
}

func printJSON(_ value: some Encodable) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try! encoder.encode(value), as: UTF8.self))
}

/// `burg-microbench lock`: uncontended acquire+release of an exclusive FileLock, each timed.
struct LockBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock", abstract: "Uncontended FileLock acquire+release latency.")

    @Option var dir: String = "/tmp"
    @Option var iterations: Int = 200_000
    @Flag(help: "Open a new FileLock for every acquisition (as AtomicFile.update does) instead of reusing one.")
    var fresh = false

    struct Output: Encodable {
        var name: String
        var acquireRelease: LatencySummary
    }

    func run() throws {
        let path = FilePath(dir).appending("burg-microbench.lock")
        var samples = [UInt64]()
        samples.reserveCapacity(iterations)
        let reused = try FileLock(path)
        for _ in 0..<(iterations / 10) {  // warm-up
            try reused.tryLock(.exclusive)
            reused.unlock()
        }
        for _ in 0..<iterations {
            let start = monotonicNanoseconds()
            if fresh {
                let lock = try FileLock(path)
                try lock.tryLock(.exclusive)
                lock.unlock()
            } else {
                try reused.tryLock(.exclusive)
                reused.unlock()
            }
            samples.append(monotonicNanoseconds() - start)
        }
        printJSON(Output(name: fresh ? "burg FileLock (new per acquire)" : "burg FileLock", acquireRelease: LatencySummary(samples)))
    }
}

/// `burg-microbench atomic-write`: 4 KiB AtomicFile writes per second, durable and file-only.
struct AtomicWriteBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atomic-write", abstract: "AtomicFile write rate and latency.")

    @Option var dir: String = "/tmp"
    @Option var count: Int = 2_000
    @Option var bytes: Int = 4096
    @Flag(help: "Skip the directory fsync (Durability.fileOnly).") var fileOnly = false

    struct Output: Encodable {
        var name: String
        var writesPerSecond: Double
        var latency: LatencySummary
    }

    func run() throws {
        let target = FilePath(dir).appending("burg-microbench.dat")
        var options = AtomicFile.Options()
        options.durability = fileOnly ? .fileOnly : .durable
        let payload = [UInt8](repeating: 0xA5, count: bytes)
        var samples = [UInt64]()
        let started = monotonicNanoseconds()
        for _ in 0..<count {
            let start = monotonicNanoseconds()
            try AtomicFile.write(payload, to: target, options: options)
            samples.append(monotonicNanoseconds() - start)
        }
        let seconds = Double(monotonicNanoseconds() - started) / 1e9
        printJSON(Output(
            name: "AtomicFile \(bytes) B \(fileOnly ? "fileOnly" : "durable")",
            writesPerSecond: Double(count) / seconds, latency: LatencySummary(samples)))
    }
}

/// `burg-microbench update-worker`: one of the processes of the contended `AtomicFile.update` benchmark.
struct UpdateWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update-worker", abstract: "Increment a counter file N times with AtomicFile.update.")

    @Argument var path: String
    @Option var count: Int = 500

    func run() throws {
        for _ in 0..<count {
            try AtomicFile.update(FilePath(path)) { old in
                let value = old.flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
                return Array(String(value + 1).utf8)
            }
        }
    }
}
