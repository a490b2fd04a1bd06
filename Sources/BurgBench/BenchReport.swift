import Foundation

/// Text, CSV and JSON renderings of runs. Throughput is printed in both MB/s (10^6 bytes) and MiB/s
/// (2^20 bytes), labelled; CSV and JSON carry exact bytes per second and nanoseconds. Every figure is the
/// median over the run's rounds, shown with its range and spread, and marked "noisy" or "cached?" with
/// the reason; every ratio comes with the range of its paired rounds and a ``Verdict``.
public enum BenchReport {
    /// The results table of one run; with both engines, fio beside native and their ratio.
    public static func table(_ run: BenchRun) -> String {
        let summary = run.summaryOrComputed
        var lines: [String] = []
        let when = Date(timeIntervalSince1970: Double(run.startedAt) / 1000)
        lines.append("run \(run.id.map(String.init) ?? "-")  \(run.settings.preset.rawValue) on \(run.target)  \(when)")
        let machine = run.machine
        lines.append("machine: \(machine.processors) CPUs \(machine.cpuModel ?? "?"); fs \(machine.fileSystem ?? "?")"
            + (machine.deviceSummary.map { "; device \($0)" } ?? "")
            + (run.cached ? "; CACHED (no direct I/O): memory was measured, not the disk" : ""))
        let engines = run.enginesMeasured
        if summary.rounds > 1 {
            lines.append("\(summary.rounds) rounds, "
                + (engines.count > 1 ? "engines and workloads interleaved; " : "workloads interleaved; ")
                + "figures are medians, with the range (min-max) and spread over the rounds")
        }
        if !summary.figures.isEmpty {
            lines.append(row([
                "workload", "engine", "MB/s", "MiB/s", "IOPS", "p50", "p90", "p99", "p99.9", "max", "CPU/IO", "MB/s min-max",
                "spread", "flags",
            ]))
            for name in run.workloadNames {
                for engine in [Engine.native, .fio] {
                    guard let figures = summary.figures(name, engine: engine) else { continue }
                    let bytes = figures.bytesPerSecond
                    lines.append(row([
                        name, engine.rawValue,
                        formatFixed(bytes.median / 1e6, decimals: 1), formatFixed(bytes.median / 1_048_576, decimals: 1),
                        formatFixed(figures.iops.median, decimals: 0),
                        formatLatency(figures.latency.p50), formatLatency(figures.latency.p90), formatLatency(figures.latency.p99),
                        formatLatency(figures.latency.p999), formatLatency(figures.latency.max),
                        figures.cpuPerIO.map { formatLatency(UInt64($0)) } ?? "-",
                        bytes.isMeasured ? formatFixed(bytes.min / 1e6, decimals: 1) + "-" + formatFixed(bytes.max / 1e6, decimals: 1) : "-",
                        bytes.isMeasured ? formatFixed(bytes.percent, decimals: 1) + " %" : "-",
                        flags(figures),
                    ]))
                }
                if let comparison = summary.comparisons.first(where: { $0.workload == name }) {
                    lines.append(row([
                        name, "native/fio", formatFixed(comparison.ratio.median, decimals: 3), "", "", "", "", "", "", "", "",
                        comparison.ratio.isMeasured
                            ? formatFixed(comparison.ratio.min, decimals: 3) + "-" + formatFixed(comparison.ratio.max, decimals: 3) : "-",
                        "", comparison.verdict.rawValue,
                    ]))
                }
            }
            if !summary.comparisons.isEmpty {
                let within = summary.comparisons.filter { abs($0.ratio.median - 1) <= 0.05 }.count
                lines.append("native/fio: \(within) of \(summary.comparisons.count) median ratios within ±5 %; "
                    + "\(summary.comparisons.filter { $0.verdict == .sameWithinNoise }.count) the same within noise")
            }
        }
        if let video = summary.video {
            lines += videoTable(video, run: run)
        }
        lines += notes(summary)
        if let verify = run.verify {
            lines.append("verify: \(verify.blocks) blocks written and read back, \(verify.mismatches) mismatches")
        }
        return lines.joined(separator: "\n")
    }

    /// "noisy", "cached?" or both.
    static func flags(_ figures: BenchSummary.Figures) -> String {
        [figures.noisy ? "noisy" : nil, figures.cached != nil ? "cached?" : nil].compactMap { $0 }.joined(separator: " ")
    }

    /// What the flags mean and what to do about them; a hint when there was a single round.
    static func notes(_ summary: BenchSummary) -> [String] {
        var lines: [String] = []
        let noisy = summary.figures.filter(\.noisy)
        for figures in noisy {
            lines.append("noisy: \(figures.workload.name) [\(figures.engine.rawValue)] moved \(formatFixed(figures.bytesPerSecond.percent, decimals: 1)) % "
                + "over \(figures.bytesPerSecond.count) rounds (threshold \(formatFixed(summary.noiseThreshold, decimals: 0)) %)")
        }
        if !noisy.isEmpty { lines.append("  to make it steadier: " + BenchSummary.noiseHint) }
        let cached = summary.figures.filter { $0.cached != nil }
        for figures in cached {
            lines.append("cached?: \(figures.workload.name) [\(figures.engine.rawValue)]: \(figures.cached!)")
        }
        if !cached.isEmpty { lines.append("  " + BenchSummary.cacheHint) }
        if summary.rounds == 1 && (!summary.figures.isEmpty || summary.video != nil) {
            lines.append("one round: no range, spread or verdict; --rounds 5 shows how much each figure moves")
        }
        return lines
    }

    /// The "will it work?" table of the video preset.
    static func videoTable(_ rows: [VideoVerdict], run: BenchRun) -> [String] {
        guard let settings = (run.videoRuns ?? run.video.map { [$0] })?.first?.settings else { return [] }
        let format = settings.format
        var lines = ["video \(format.name): \(ThroughputUnit.megabytes.format(format.bytesPerSecond)) per stream, "
            + "\(formatFixed(format.framesPerSecond, decimals: 2)) fps (a frame every \(formatLatency(UInt64(1e9 / format.framesPerSecond)))), "
            + "\(settings.mode.rawValue); will it work?"]
        let engines = Engine.allCases.filter { engine in rows.contains { $0.engines.contains { $0.engine == engine } } }
        var header = ["streams", "MB/s needed"]
        for engine in engines { header += ["\(engine.rawValue) MB/s", "late", "margin"] }
        lines.append(videoRow(header + ["works?"]))
        for verdict in rows {
            var cells = ["\(verdict.streams)", formatFixed(verdict.neededBytesPerSecond / 1e6, decimals: 1)]
            for engine in engines {
                guard let figures = verdict.engines.first(where: { $0.engine == engine }), figures.rounds > 0 else {
                    cells += ["-", "-", "-"]
                    continue
                }
                cells += [
                    formatFixed(figures.bytesPerSecond / 1e6, decimals: 1), "\(figures.lateFrames)",
                    figures.margin.map { formatFixed($0, decimals: 1) + "x" } ?? "-",
                ]
            }
            let why = verdict.engines.contains { $0.failedEarlier || $0.rounds == 0 } && !verdict.engines.contains { $0.lateFrames > 0 }
                ? " (fewer streams already had late frames)" : ""
            lines.append(videoRow(cells + [verdict.answer.rawValue + why]))
        }
        lines.append("margin: the frame period divided by the slowest frame's time (the worst over the rounds); "
            + "below \(formatFixed(VideoVerdict.comfortableMargin, decimals: 1))x is tight, late frames mean it does not work")
        return lines
    }

    /// Two runs side by side: B's figures relative to A's, workload by workload and engine by engine,
    /// each ratio with its range over the rounds both runs have (paired by round number) and a verdict.
    public static func compare(_ a: BenchRun, _ b: BenchRun) -> String {
        var lines = ["A = run \(a.id ?? 0) (\(a.target)), B = run \(b.id ?? 0) (\(b.target))"]
        lines.append(row(["workload", "engine", "A MB/s", "B MB/s", "B/A", "B/A min-max", "verdict", "A p99", "B p99", "B/A p99"]))
        let summaryA = a.summaryOrComputed, summaryB = b.summaryOrComputed
        var verdicts: [Verdict] = []
        for figuresA in summaryA.figures {
            let name = figuresA.workload.name
            guard let figuresB = summaryB.figures(name, engine: figuresA.engine),
                  let comparison = BenchSummary.compare(name, b.results(name, engine: figuresA.engine), relativeTo: a.results(name, engine: figuresA.engine))
            else { continue }
            verdicts.append(comparison.verdict)
            lines.append(row([
                name, figuresA.engine.rawValue,
                formatFixed(figuresA.bytesPerSecond.median / 1e6, decimals: 1), formatFixed(figuresB.bytesPerSecond.median / 1e6, decimals: 1),
                formatFixed(comparison.ratio.median, decimals: 3),
                comparison.ratio.isMeasured
                    ? formatFixed(comparison.ratio.min, decimals: 3) + "-" + formatFixed(comparison.ratio.max, decimals: 3) : "-",
                comparison.verdict == .undetermined ? "undetermined" : (comparison.verdict == .sameWithinNoise ? "same" : "B " + comparison.verdict.rawValue),
                formatLatency(figuresA.latency.p99), formatLatency(figuresB.latency.p99),
                ratio(Double(figuresB.latency.p99), Double(figuresA.latency.p99)),
            ]))
        }
        if !verdicts.isEmpty {
            lines.append("B/A is the median of the ratios of rounds with the same number; \"B faster\" or \"B slower\" only when every "
                + "round's ratio lies on that side of 1, otherwise \"same\" within noise")
            if verdicts.contains(.undetermined) {
                lines.append("a run with one round gives no range: rerun with --rounds 5 to tell a difference from noise")
            }
        }
        if let videoA = summaryA.video, let videoB = summaryB.video {
            func sustained(_ rows: [VideoVerdict]) -> Int { rows.filter { $0.answer != .no }.map(\.streams).max() ?? 0 }
            lines.append("video: A carries \(sustained(videoA)) streams of \(videoA.first?.format ?? "?") without late frames in any round, "
                + "B \(sustained(videoB)) of \(videoB.first?.format ?? "?")")
        }
        if verdicts.isEmpty && summaryA.video == nil { lines.append("(no workload in common)") }
        return lines.joined(separator: "\n")
    }

    /// One line per result (and per video step) with exact units; a header names every column. After a
    /// blank line each: the summary per workload and engine, the engine comparison, the video verdicts.
    public static func csv(_ run: BenchRun) -> String {
        let id = "\(run.id ?? 0)"
        var lines = ["run,engine,workload,read_bytes,write_bytes,read_ios,write_ios,seconds,bytes_per_second,iops,"
            + "p50_ns,p90_ns,p99_ns,p999_ns,max_ns,cpu_ns_per_io,cached,round"]
        for result in run.results {
            lines.append([
                id, result.engine.rawValue, csvField(result.workload.name), "\(result.readBytes)",
                "\(result.writeBytes)", "\(result.readIOs)", "\(result.writeIOs)", "\(result.seconds)",
                "\(result.bytesPerSecond)", "\(result.iops)", "\(result.latency.p50)", "\(result.latency.p90)",
                "\(result.latency.p99)", "\(result.latency.p999)", "\(result.latency.max)",
                result.cpuPerIO.map { "\($0)" } ?? "", "\(result.cached)", "\(result.round ?? 0)",
            ].joined(separator: ","))
        }
        let summary = run.summaryOrComputed
        if !summary.figures.isEmpty {
            lines.append("")
            lines.append("run,engine,workload,rounds,median_bytes_per_second,min_bytes_per_second,max_bytes_per_second,spread_percent,"
                + "median_iops,median_p50_ns,median_p99_ns,noisy,cached_reason")
            for figures in summary.figures {
                let bytes = figures.bytesPerSecond
                lines.append([
                    id, figures.engine.rawValue, csvField(figures.workload.name), "\(bytes.count)", "\(bytes.median)", "\(bytes.min)",
                    "\(bytes.max)", "\(bytes.percent)", "\(figures.iops.median)", "\(figures.latency.p50)", "\(figures.latency.p99)",
                    "\(figures.noisy)", csvField(figures.cached ?? ""),
                ].joined(separator: ","))
            }
        }
        if !summary.comparisons.isEmpty {
            lines.append("")
            lines.append("run,workload,rounds,ratio_native_fio_median,ratio_min,ratio_max,verdict")
            for comparison in summary.comparisons {
                lines.append("\(id),\(csvField(comparison.workload)),\(comparison.ratio.count),\(comparison.ratio.median),"
                    + "\(comparison.ratio.min),\(comparison.ratio.max),\(comparison.verdict.rawValue)")
            }
        }
        for video in run.videoRuns ?? run.video.map({ [$0] }) ?? [] {
            lines.append("")
            lines.append("run,engine,round,format,streams,frames,late_frames,worst_lateness_ns,worst_frame_ns,bytes,seconds,bytes_per_second")
            for step in video.steps {
                lines.append("\(id),\((video.engine ?? .native).rawValue),\(video.round ?? 0),\(csvField(video.settings.format.name)),"
                    + "\(step.streams),\(step.frames),\(step.lateFrames),\(step.worstLateness),\(step.worstFrame.map { "\($0)" } ?? ""),"
                    + "\(step.bytes),\(step.seconds),\(step.bytesPerSecond)")
            }
        }
        if let rows = summary.video {
            lines.append("")
            lines.append("run,format,streams,needed_bytes_per_second,engine,rounds,late_frames,margin,answer")
            for verdict in rows {
                for figures in verdict.engines {
                    lines.append("\(id),\(csvField(verdict.format)),\(verdict.streams),\(verdict.neededBytesPerSecond),"
                        + "\(figures.engine.rawValue),\(figures.rounds),\(figures.lateFrames),\(figures.margin.map { "\($0)" } ?? ""),"
                        + "\(verdict.answer.rawValue)")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The whole run, samples and summary included, as pretty JSON.
    public static func json(_ run: BenchRun) throws -> String {
        var run = run
        run.summary = run.summaryOrComputed
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(run), as: UTF8.self)
    }

    /// "1.02" for 1.0234; "-" when the base is zero.
    static func ratio(_ value: Double, _ base: Double) -> String {
        base > 0 ? formatFixed(value / base, decimals: 3) : "-"
    }

    private static func row(_ cells: [String]) -> String {
        let widths = [17, 10, 9, 9, 9, 9, 9, 9, 9, 9, 9, 15, 8]
        return cells.enumerated().map { index, cell in
            let width = index < widths.count ? widths[index] : 0
            return index == 0 || index == 1 || index >= widths.count ? cell.padding(toLength: max(width, cell.count), withPad: " ", startingAt: 0)
                : String(repeating: " ", count: max(0, width - cell.count)) + cell
        }.joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    private static func videoRow(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            index == cells.count - 1 ? cell : String(repeating: " ", count: max(0, (index == 0 ? 7 : 11) - cell.count)) + cell
        }.joined(separator: " ")
    }

    private static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
