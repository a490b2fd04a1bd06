import BurgCore
import Foundation
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a ``Workload`` through fio, as the peer of ``NativeEngine``: the same file, block size, pattern,
/// threads (`numjobs`, `ioengine=psync`), ramp-up and duration.
///
/// Guarantees: fio's stdout (JSON, possibly after warnings) and stderr are read apart; an attempt that
/// fails or outlives its runtime plus ``BenchConfiguration/fioGrace`` is stopped and retried once after a
/// backoff; cancellation stops fio (SIGINT, then SIGKILL) and throws `.interrupted`.
public struct FioRunner: Sendable {
    public var executable: FilePath
    public var configuration: BenchConfiguration
    public var extraOptions: FioOptions
    /// Pause before the single retry.
    public var retryBackoff: Duration = .seconds(1)

    /// Finds fio (``BenchConfiguration/fioPath`` or PATH); throws `.fioMissing`.
    public init(configuration: BenchConfiguration, extraOptions: FioOptions = FioOptions()) throws(BenchError) {
        guard let executable = configuration.fioPath ?? Self.find() else {
            throw BenchError(.fioMissing, subject: "fio", detail: "not found in PATH")
        }
        self.executable = executable
        self.configuration = configuration
        self.extraOptions = extraOptions
    }

    /// fio's executable in PATH, or nil.
    public static func find(path: String? = ProcessInfo.processInfo.environment["PATH"]) -> FilePath? {
        for directory in (path ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = FilePath(String(directory)).appending("fio")
            if candidate.withPlatformString({ access($0, X_OK) }) == 0 { return candidate }
        }
        return nil
    }

    /// fio's arguments for `workload` on `file`.
    public func arguments(_ workload: Workload, file: FilePath, direct: Bool) -> [String] {
        let rw: String
        switch (workload.pattern, workload.readPercent) {
        case (.sequential, 100): rw = "read"
        case (.sequential, 0): rw = "write"
        case (.sequential, _): rw = "rw"
        case (.random, 100): rw = "randread"
        case (.random, 0): rw = "randwrite"
        case (.random, _): rw = "randrw"
        }
        var arguments = [
            "--name=burg", "--filename=\(file.string)", "--size=\(workload.regionSize)",
            "--bs=\(workload.blockSize)", "--rw=\(rw)", "--ioengine=psync", "--direct=\(direct ? 1 : 0)",
            "--numjobs=\(workload.queueDepth)", "--group_reporting",
            // Jobs as threads of one process: stopping fio stops every job, and no forked job can keep
            // the output pipes open after the main process is gone.
            "--thread", "--time_based",
            "--runtime=\(Int((workload.duration * 1000).rounded()))ms",
            "--ramp_time=\(Int((workload.rampUp * 1000).rounded()))ms",
            "--norandommap", "--randrepeat=0", "--percentile_list=50:90:99:99.9",
            "--output-format=json", "--status-interval=1",
        ]
        if workload.readPercent != 0 && workload.readPercent != 100 {
            arguments.append("--rwmixread=\(workload.readPercent)")
        }
        if workload.pattern == .sequential && workload.queueDepth > 1 {
            // Each job its own region, as the native engine's threads.
            arguments.append("--offset_increment=\(workload.regionSize)")
        }
        return arguments + extraOptions.arguments
    }

    /// Runs `workload`, retrying once after a failure. Live counters follow fio's per-second reports.
    public func run(
        _ workload: Workload, file: FilePath, direct: Bool, cached: Bool,
        cancellation: BenchCancellation = BenchCancellation(), live: LiveCounters = LiveCounters()
    ) throws(BenchError) -> BenchResult {
        let arguments = arguments(workload, file: file, direct: direct)
        return try execute(
            arguments, subject: workload.name, seconds: workload.duration + workload.rampUp, cancellation: cancellation,
            live: live
        ) { (stdout) throws(BenchError) in try FioOutput.parse(stdout, workload: workload, cached: cached) }
    }

    /// Runs fio with `arguments` and reads its stdout with `parse`, retrying once after a failure (exit
    /// status other than 0, no result within `seconds` + ``BenchConfiguration/fioGrace``, or output
    /// `parse` refuses). Throws `.fioFailed` with fio's stderr, or `.interrupted`.
    func execute<T>(
        _ arguments: [String], subject: String, seconds: Double, cancellation: BenchCancellation, live: LiveCounters,
        parse: (String) throws(BenchError) -> T
    ) throws(BenchError) -> T {
        let timeout = Duration.seconds(seconds) + configuration.fioGrace
        var lastError: BenchError?
        for attempt in 1...2 {
            if attempt == 2 { Thread.sleep(forTimeInterval: retryBackoff.seconds) }
            if cancellation.isCancelled { break }
            do throws(BenchError) {
                let output = try ChildOutput.run(
                    executable, arguments, timeout: timeout, cancellation: cancellation,
                    onStdout: { text in
                        if let report = FioOutput.objects(in: text).last,
                           let counts = FioOutput.counts(String(report)) { live.set(bytes: counts.bytes, ios: counts.ios) }
                    })
                if cancellation.isCancelled { break }
                if output.timedOut {
                    throw BenchError(.fioFailed, subject: subject, detail: "no result within \(timeout); stopped it")
                }
                guard output.status == 0 else {
                    throw BenchError(
                        .fioFailed, subject: subject,
                        detail: "exit status \(output.status): " + output.stderr.trimmingCharacters(in: .whitespacesAndNewlines).suffix(500))
                }
                return try parse(output.stdout)
            } catch {
                lastError = error
            }
        }
        if cancellation.isCancelled {
            let file = arguments.first { $0.hasPrefix("--filename=") }.map { FilePath(String($0.dropFirst(11))) }
            throw BenchError(.interrupted, subject: file?.removingLastComponent().string ?? subject)
        }
        throw lastError ?? BenchError(.fioFailed, subject: subject)
    }
}

extension FioOutput {
    /// Cumulative bytes and I/Os of one report (for the live progress line).
    static func counts(_ json: String) -> (bytes: UInt64, ios: UInt64)? {
        guard let report = try? JSONDecoder().decode(Report.self, from: Data(json.utf8)), let job = report.jobs.first
        else { return nil }
        return (job.read.ioBytes + job.write.ioBytes, job.read.totalIOs + job.write.totalIOs)
    }
}

/// A child process's complete stdout and stderr, read apart, with a timeout and cancellation.
struct ChildOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool

    static func run(
        _ executable: FilePath, _ arguments: [String], timeout: Duration, cancellation: BenchCancellation,
        onStdout: @escaping @Sendable (String) -> Void
    ) throws(BenchError) -> ChildOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.string)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw BenchError(.fioMissing, subject: executable.string, detail: "cannot start it: \(error)")
        }
        let stdout = Collected()
        let stderr = Collected()
        let readers = DispatchGroup()
        for (handle, sink, notify) in [(out.fileHandleForReading, stdout, true), (err.fileHandleForReading, stderr, false)] {
            readers.enter()
            Thread.detachNewThread {
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    let text = sink.append(data)
                    if notify { onStdout(text) }
                }
                readers.leave()
            }
        }
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        var signalled: ContinuousClock.Instant?
        while process.isRunning {
            let now = ContinuousClock.now
            if signalled == nil && (cancellation.isCancelled || now > deadline) {
                timedOut = !cancellation.isCancelled
                // SIGINT lets fio stop its jobs and exit; SIGKILL if it does not within 2 s.
                kill(process.processIdentifier, SIGINT)
                signalled = now
            } else if let signalled, now - signalled > .seconds(2) {
                kill(process.processIdentifier, SIGKILL)
            }
            usleep(10_000)
        }
        readers.wait()
        return ChildOutput(
            status: process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus,
            stdout: stdout.text, stderr: stderr.text, timedOut: timedOut)
    }

    /// Bytes a reader thread appends while the caller waits; read after the readers finished.
    private final class Collected: Sendable {
        private let data = Mutex(Data())
        /// Appends and returns everything so far, as text.
        func append(_ chunk: Data) -> String {
            data.withLock { data in
                data.append(chunk)
                return String(decoding: data, as: UTF8.self)
            }
        }
        var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
    }
}


