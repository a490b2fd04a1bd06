import BurgBench
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

@Suite struct NativeEngineTests {
    @Test(arguments: [(Workload.Pattern.random, 50, 4096, 4), (.sequential, 100, 1 << 20, 4), (.random, 0, 8192, 2)])
    func bytesCountedEqualBytesTheKernelSawIssued(pattern: Workload.Pattern, readPercent: Int, blockSize: Int, depth: Int) throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("data")
        try makeFile(file, size: 16 << 20)
        let limit = UInt64(blockSize) * 600
        let helper = try ChildProcess.helper(
            "bench-count", "--file", file.string, "--block-size", "\(blockSize)", "--depth", "\(depth)",
            "--read-percent", "\(readPercent)", "--limit", "\(limit)", "--pattern", pattern.rawValue)
        let line = try helper.waitForLine { $0.hasPrefix("counted_read=") }
        #expect(try helper.wait() == 0, "\(helper.standardError)")
        let f = fields(line)
        // The engine counted exactly the limit, in whole blocks...
        #expect(f["counted_read"]! + f["counted_write"]! == limit)
        #expect((f["reads"]! + f["writes"]!) * UInt64(blockSize) == limit)
        // ...and the kernel saw exactly those bytes in exactly that many calls. Writes: nothing else in the
        // helper writes. Reads: libdispatch may read its 8-byte eventfd a few times; nothing else reads.
        #expect(f["wchar"] == f["counted_write"])
        #expect(f["syscw"] == f["writes"])
        let extraReads = f["syscr"]! - f["reads"]!
        #expect(extraReads <= 3)
        #expect(f["rchar"]! - f["counted_read"]! == 8 * extraReads, "\(line)")
        if readPercent == 100 { #expect(f["counted_write"] == 0) }
        if readPercent == 0 { #expect(f["counted_read"] == 0) }
    }

    @Test func aTimedRunExcludesItsRampUpAndKeepsPerSecondSamples() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("data")
        try makeFile(file, size: 8 << 20)
        let workload = Workload(
            name: "t", pattern: .random, readPercent: 100, blockSize: 4096, queueDepth: 2, fileSize: 8 << 20,
            duration: 1.2, rampUp: 0.6)
        let started = ContinuousClock.now
        let result = try NativeEngine.run(workload, file: file, direct: true, cached: false)
        let wall = ContinuousClock.now - started
        #expect(wall >= .milliseconds(1700))
        // The measured window is the duration, not duration + ramp-up.
        #expect(result.seconds > 1.1 && result.seconds < 1.5, "\(result.seconds)")
        #expect(result.ios > 0)
        #expect(result.samples.map(\.second) == [1, 2])
        let sampledIOs = result.samples[0].iops + result.samples[1].iops * (result.seconds - 1)
        #expect(abs(sampledIOs - Double(result.ios)) / Double(result.ios) < 0.01)
        let l = result.latency
        #expect(0 < l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max)
        #expect(result.cpuNanoseconds ?? 0 > 0)
    }

    @Test func cancellationStopsAllThreadsPromptly() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("data")
        try makeFile(file, size: 8 << 20)
        let workload = Workload(
            name: "t", pattern: .random, readPercent: 100, blockSize: 4096, queueDepth: 4, fileSize: 8 << 20,
            duration: 30, rampUp: 0)
        let cancellation = BenchCancellation()
        Thread.detachNewThread { usleep(300_000); cancellation.cancel() }
        let started = ContinuousClock.now
        #expect(throws: BenchError(.interrupted, subject: dir.path.string)) {
            try NativeEngine.run(workload, file: file, direct: true, cached: false, cancellation: cancellation)
        }
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func verifyModeReadsBackEveryChecksummedBlock() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("data")
        try makeFile(file, size: 4 << 20)
        let report = try Verifier.run(file: file, size: 4 << 20, blockSize: 65536, direct: true)
        #expect(report.blocks == 64)
        #expect(report.bytesWritten == 4 << 20 && report.bytesRead == 4 << 20)
        #expect(report.mismatches == 0)
    }

    @Test func verifyModeNamesTheBlockThatCameBackDifferent() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("data")
        try makeFile(file, size: 1 << 20)
        // A block that silently lands at another offset (misdirected write), and one flipped bit.
        do {
            _ = try Verifier.run(file: file, size: 1 << 20, blockSize: 65536, direct: true) {
                let handle = try FileHandle(forUpdating: URL(fileURLWithPath: file.string))
                defer { try? handle.close() }
                try handle.seek(toOffset: 2 * 65536)
                let block = try handle.read(upToCount: 65536)!
                try handle.seek(toOffset: 5 * 65536)
                try handle.write(contentsOf: block)
                try handle.seek(toOffset: 9 * 65536 + 1000)
                var byte = try handle.read(upToCount: 1)!
                byte[0] ^= 0x01
                try handle.seek(toOffset: 9 * 65536 + 1000)
                try handle.write(contentsOf: byte)
            }
            Issue.record("verify passed over a damaged file")
        } catch let error as BenchError {
            #expect(error.code == .verifyFailed)
            #expect(error.exitCode == 65)
            #expect(error.description.contains("2 of 16 blocks differ, first at offsets \(5 * 65536), \(9 * 65536)"))
        }
    }

    @Test(arguments: [
        ("4096", UInt64(4096)), ("4k", 4096), ("4KiB", 4096), ("1G", 1 << 30), ("1GiB", 1 << 30), ("1GB", 1_000_000_000),
        ("64M", 64 << 20), ("1.5GB", 1_500_000_000),
    ])
    func sizesKeepBinaryAndDecimalApart(text: String, bytes: UInt64) {
        #expect(Quantity.bytes(text) == bytes)
    }

    @Test func ratesKeepBitsBytesAndPrefixesApart() {
        #expect(Quantity.rate("92MB/s") == 92_000_000)
        #expect(Quantity.rate("88MiB/s") == 92_274_688.0)
        #expect(Quantity.rate("737Mbit") == 92_125_000)
        #expect(Quantity.rate("737Mb/s") == 92_125_000)
        #expect(Quantity.rate("fast") == nil)
        #expect(ThroughputUnit.megabytes.format(1_048_576) == "1.0 MB/s")
        #expect(ThroughputUnit.mebibytes.format(1_048_576) == "1.0 MiB/s")
        #expect(ThroughputUnit.megabytes.format(92_000_000) == "92.0 MB/s")
    }
}
