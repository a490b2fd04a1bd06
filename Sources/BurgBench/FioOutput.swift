import Foundation

/// fio's `--output-format=json` output, read into ``BenchResult``.
///
/// fio may print notes and warnings before the JSON ("note: both iodepth >= 1 and synchronous I/O engine
/// are selected ..."), and with `--status-interval` prints one complete JSON report per interval followed
/// by the final one. The parser skips everything before the first `{`, reads every top-level object, takes
/// the last as the result and the earlier ones as per-second samples.
public enum FioOutput {
    struct Report: Decodable {
        var jobs: [Job]
    }

    struct Job: Decodable {
        var jobname: String
        var error: Int
        var read: Direction
        var write: Direction
        var jobRuntime: UInt64?
        var usrCPU: Double
        var sysCPU: Double
        enum CodingKeys: String, CodingKey {
            case jobname, error, read, write
            case jobRuntime = "job_runtime"
            case usrCPU = "usr_cpu"
            case sysCPU = "sys_cpu"
        }
    }

    struct Direction: Decodable {
        var ioBytes: UInt64
        var totalIOs: UInt64
        /// Milliseconds.
        var runtime: UInt64
        var clat: Latency
        var lat: Latency
        enum CodingKeys: String, CodingKey {
            case ioBytes = "io_bytes"
            case totalIOs = "total_ios"
            case runtime
            case clat = "clat_ns"
            case lat = "lat_ns"
        }
    }

    struct Latency: Decodable {
        var min: UInt64
        var max: UInt64
        var mean: Double
        var percentile: [String: UInt64]?
        /// `json+` only: latency (ns) to the number of I/Os in that histogram bin.
        var bins: [String: UInt64]?
    }

    /// The top-level JSON objects in `text`, in order, ignoring anything outside them (warnings).
    static func objects(in text: String) -> [Substring] {
        var result: [Substring] = []
        var depth = 0
        var inString = false
        var escaped = false
        var start: String.Index?
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if inString {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
            } else if character == "\"" && depth > 0 {
                inString = true
            } else if character == "{" {
                if depth == 0 { start = index }
                depth += 1
            } else if character == "}" && depth > 0 {
                depth -= 1
                if depth == 0, let start { result.append(text[start...index]) }
            }
            index = text.index(after: index)
        }
        return result
    }

    /// Parses fio's stdout into a result for `workload`. Throws `.fioFailed` when there is no JSON report,
    /// it cannot be read, or fio reports a job error.
    public static func parse(_ stdout: String, workload: Workload, cached: Bool) throws(BenchError) -> BenchResult {
        let decoder = JSONDecoder()
        let reports = objects(in: stdout).compactMap { try? decoder.decode(Report.self, from: Data($0.utf8)) }
        guard let final = reports.last, let job = final.jobs.first else {
            let start = stdout.prefix(300)
            throw BenchError(.fioFailed, subject: workload.name, detail: "no JSON report in fio's output: \(start)")
        }
        guard final.jobs.count == 1 else {
            throw BenchError(.fioFailed, subject: workload.name, detail: "expected one job group (group_reporting), got \(final.jobs.count)")
        }
        guard job.error == 0 else {
            throw BenchError(.fioFailed, subject: workload.name, detail: "fio job error \(job.error) (\(String(cString: strerror(Int32(job.error))))")
        }
        let seconds = Double(max(job.read.runtime, job.write.runtime)) / 1000
        let cpu = job.jobRuntime.map { UInt64((job.usrCPU + job.sysCPU) / 100 * Double($0) * 1_000_000) }
        return BenchResult(
            engine: .fio, workload: workload, readBytes: job.read.ioBytes, writeBytes: job.write.ioBytes,
            readIOs: job.read.totalIOs, writeIOs: job.write.totalIOs, seconds: seconds,
            latency: latency(job), samples: samples(reports.dropLast().compactMap { $0.jobs.first } + [job]),
            cached: cached, cpuNanoseconds: cpu)
    }

    /// Completion latency (for synchronous engines: the whole system call), weighted by I/O count when
    /// the workload both reads and writes.
    static func latency(_ job: Job) -> LatencySummary {
        let directions = [job.read, job.write].filter { $0.totalIOs > 0 }
        let total = Double(directions.reduce(0) { $0 + $1.totalIOs })
        var summary = LatencySummary()
        guard total > 0 else { return summary }
        func weighted(_ key: String) -> UInt64 {
            UInt64(directions.reduce(0.0) { sum, direction in
                let value = (direction.clat.percentile ?? direction.lat.percentile)?[key] ?? 0
                return sum + Double(value) * Double(direction.totalIOs) / total
            })
        }
        summary.p50 = weighted("50.000000")
        summary.p90 = weighted("90.000000")
        summary.p99 = weighted("99.000000")
        summary.p999 = weighted("99.900000")
        summary.max = directions.map(\.clat.max).max() ?? 0
        summary.mean = directions.reduce(0.0) { $0 + $1.clat.mean * Double($1.totalIOs) / total }
        return summary
    }

    /// Per-interval rates from the cumulative counters of successive status reports.
    static func samples(_ jobs: [Job]) -> [Sample] {
        var result: [Sample] = []
        var previous: (bytes: UInt64, ios: UInt64, runtime: UInt64) = (0, 0, 0)
        for job in jobs {
            let bytes = job.read.ioBytes + job.write.ioBytes
            let ios = job.read.totalIOs + job.write.totalIOs
            let runtime = max(job.read.runtime, job.write.runtime)
            // Reports come about once a second; the final one may follow the last status report by
            // milliseconds, too short a span for a rate.
            guard runtime >= previous.runtime + 200, bytes >= previous.bytes, ios >= previous.ios else { continue }
            let span = Double(runtime - previous.runtime) / 1000
            result.append(Sample(
                second: result.count + 1,
                bytesPerSecond: Double(bytes - previous.bytes) / span, iops: Double(ios - previous.ios) / span, p99: nil))
            previous = (bytes, ios, runtime)
        }
        return result
    }
}
