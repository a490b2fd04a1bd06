import Foundation

/// Text, CSV and JSON renderings of runs. Throughput is printed in both MB/s (10^6 bytes) and MiB/s
/// (2^20 bytes), labelled; CSV and JSON carry exact bytes per second and nanoseconds.
public enum BenchReport {
    /// The results table of one run; with both engines, fio beside native and their ratio.
    public static func table(_ run: BenchRun) -> String {
        var lines: [String] = []
        let when = Date(timeIntervalSince1970: Double(run.startedAt) / 1000)
        lines.append("run \(run.id.map(String.init) ?? "-")  \(run.settings.preset.rawValue) on \(run.target)  \(when)")
        let machine = run.machine
        lines.append("machine: \(machine.processors) CPUs \(machine.cpuModel ?? "?"); fs \(machine.fileSystem ?? "?")"
            + (machine.deviceModel.map { "; device \($0)" } ?? machine.device.map { "; device \($0)" } ?? "")
            + (run.cached ? "; CACHED (no direct I/O): memory was measured, not the disk" : ""))
        let names = run.results.reduce(into: [String]()) { if !$0.contains($1.workload.name) { $0.append($1.workload.name) } }
        if !names.isEmpty {
            lines.append(row(["workload", "engine", "MB/s", "MiB/s", "IOPS", "p50", "p90", "p99", "p99.9", "max", "CPU/IO"]))
            for name in names {
                let native = run.result(name, engine: .native)
                let fio = run.result(name, engine: .fio)
                for result in [native, fio].compactMap({ $0 }) {
                    lines.append(row([
                        name, result.engine.rawValue,
                        formatFixed(result.bytesPerSecond / 1e6, decimals: 1),
                        formatFixed(result.bytesPerSecond / 1_048_576, decimals: 1),
                        formatFixed(result.iops, decimals: 0),
                        formatLatency(result.latency.p50), formatLatency(result.latency.p90), formatLatency(result.latency.p99),
                        formatLatency(result.latency.p999), formatLatency(result.latency.max),
                        result.cpuPerIO.map { formatLatency(UInt64($0)) } ?? "-",
                    ]))
                }
                if let native, let fio {
                    lines.append(row([
                        name, "native/fio", ratio(native.bytesPerSecond, fio.bytesPerSecond), "", ratio(native.iops, fio.iops),
                        ratio(Double(native.latency.p50), Double(fio.latency.p50)), "",
                        ratio(Double(native.latency.p99), Double(fio.latency.p99)), "", "",
                        native.cpuPerIO.flatMap { n in fio.cpuPerIO.map { ratio(n, $0) } } ?? "-",
                    ]))
                }
            }
        }
        if let video = run.video {
            let format = video.settings.format
            lines.append("video \(format.name): \(ThroughputUnit.megabytes.format(format.bytesPerSecond)) per stream, "
                + "\(formatFixed(format.framesPerSecond, decimals: 2)) fps, \(video.settings.mode.rawValue)")
            lines.append(row(["streams", "frames", "late", "worst late", "MB/s", "MiB/s"]))
            for step in video.steps {
                lines.append(row([
                    "\(step.streams)", "\(step.frames)", "\(step.lateFrames)", formatLatency(step.worstLateness),
                    formatFixed(step.bytesPerSecond / 1e6, decimals: 1), formatFixed(step.bytesPerSecond / 1_048_576, decimals: 1),
                ]))
            }
            lines.append("sustained without late frames: \(video.sustainedStreams) stream\(video.sustainedStreams == 1 ? "" : "s")")
        }
        if let verify = run.verify {
            lines.append("verify: \(verify.blocks) blocks written and read back, \(verify.mismatches) mismatches")
        }
        return lines.joined(separator: "\n")
    }

    /// Two runs side by side: B's figures relative to A's, workload by workload and engine by engine.
    public static func compare(_ a: BenchRun, _ b: BenchRun) -> String {
        var lines = ["A = run \(a.id ?? 0) (\(a.target)), B = run \(b.id ?? 0) (\(b.target))"]
        lines.append(row(["workload", "engine", "A MB/s", "B MB/s", "B/A", "A p99", "B p99", "B/A"]))
        for resultA in a.results {
            guard let resultB = b.result(resultA.workload.name, engine: resultA.engine) else { continue }
            lines.append(row([
                resultA.workload.name, resultA.engine.rawValue,
                formatFixed(resultA.bytesPerSecond / 1e6, decimals: 1), formatFixed(resultB.bytesPerSecond / 1e6, decimals: 1),
                ratio(resultB.bytesPerSecond, resultA.bytesPerSecond),
                formatLatency(resultA.latency.p99), formatLatency(resultB.latency.p99),
                ratio(Double(resultB.latency.p99), Double(resultA.latency.p99)),
            ]))
        }
        if let videoA = a.video, let videoB = b.video {
            lines.append("video: A sustained \(videoA.sustainedStreams) streams of \(videoA.settings.format.name), "
                + "B \(videoB.sustainedStreams) of \(videoB.settings.format.name)")
        }
        if lines.count == 2 && a.video == nil { lines.append("(no workload in common)") }
        return lines.joined(separator: "\n")
    }

    /// One line per result (and per video step) with exact units; a header names every column.
    public static func csv(_ run: BenchRun) -> String {
        var lines = ["run,engine,workload,read_bytes,write_bytes,read_ios,write_ios,seconds,bytes_per_second,iops,"
            + "p50_ns,p90_ns,p99_ns,p999_ns,max_ns,cpu_ns_per_io,cached"]
        for result in run.results {
            lines.append([
                "\(run.id ?? 0)", result.engine.rawValue, csvField(result.workload.name), "\(result.readBytes)",
                "\(result.writeBytes)", "\(result.readIOs)", "\(result.writeIOs)", "\(result.seconds)",
                "\(result.bytesPerSecond)", "\(result.iops)", "\(result.latency.p50)", "\(result.latency.p90)",
                "\(result.latency.p99)", "\(result.latency.p999)", "\(result.latency.max)",
                result.cpuPerIO.map { "\($0)" } ?? "", "\(result.cached)",
            ].joined(separator: ","))
        }
        if let video = run.video {
            lines.append("")
            lines.append("run,format,streams,frames,late_frames,worst_lateness_ns,bytes,seconds,bytes_per_second")
            for step in video.steps {
                lines.append("\(run.id ?? 0),\(csvField(video.settings.format.name)),\(step.streams),\(step.frames),"
                    + "\(step.lateFrames),\(step.worstLateness),\(step.bytes),\(step.seconds),\(step.bytesPerSecond)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The whole run, samples included, as pretty JSON.
    public static func json(_ run: BenchRun) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(run), as: UTF8.self)
    }

    /// "1.02" for 1.0234; "-" when the base is zero.
    static func ratio(_ value: Double, _ base: Double) -> String {
        base > 0 ? formatFixed(value / base, decimals: 3) : "-"
    }

    private static func row(_ cells: [String]) -> String {
        let widths = [16, 10, 9, 9, 9, 9, 9, 9, 9, 9, 9]
        return cells.enumerated().map { index, cell in
            let width = index < widths.count ? widths[index] : 9
            return index == 0 || index == 1 ? cell.padding(toLength: max(width, cell.count), withPad: " ", startingAt: 0)
                : String(repeating: " ", count: max(0, width - cell.count)) + cell
        }.joined(separator: " ")
    }

    private static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
