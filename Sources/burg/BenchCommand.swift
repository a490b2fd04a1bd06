import ArgumentParser
import BurgBench
import BurgCore
import BurgStore
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `burg bench ...`: the disk benchmark (BurgBench). Results are stored in the data directory's database.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a disk: CrystalDiskMark's set or video streams, natively and through fio.",
        discussion: """
            Throughput is shown in MB/s (10^6 bytes/s) and MiB/s (2^20 bytes/s); stored results keep exact \
            bytes/s and nanoseconds. See docs/OPERATIONS.md, "Disk benchmark".
            """,
        subcommands: [Run.self, History.self, Show.self, Compare.self, Export.self]
    )


    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a benchmark on a directory and store its results.",
            discussion: """
                The target must be a directory you may write, not a system directory, with room for the test \
                files plus a margin; one benchmark runs per target at a time. Test files (.burg-bench-*) are \
                removed on success, failure and Ctrl-C. Exit status 130 after Ctrl-C.

                With --rounds N every workload runs N times on every engine, rounds, workloads and engines \
                interleaved so that a disk's drift hits every figure alike; each figure is the median with its \
                range and spread, figures that move more than --noise-threshold are marked noisy, figures a \
                cache rather than the disk produced are marked "cached?" with the reason, and with --engine both \
                each native/fio ratio gets a verdict ("same within noise", "faster" or "slower" only when every \
                round agrees).

                The run is stored for `burg bench history` in the data directory: in the one --data-dir names \
                (created if missing), or in ./burg_data if that exists. Without either, nothing is created: the \
                results are printed and not stored.
                """)
        @Option(name: .customLong("data-dir"), help: ArgumentHelp("Burg's data directory, where the run is stored (created if missing); without it, ./burg_data is used only if it exists.", valueName: "DIR"))
        var dataDirPath: String?
        @Option(help: "cdm (CrystalDiskMark's set) or video.") var preset: Preset = .cdm
        @Option(help: ArgumentHelp("JSON config file (default: <data dir>/burg.json if it exists); its bench.allowedTargets limits where benchmarks may write.", valueName: "FILE"))
        var config: String?
        @Option(help: ArgumentHelp("Directory on the disk to measure.", valueName: "DIR")) var target: String
        @Option(help: "native, fio or both (side by side, with a verdict on their ratio).") var engine: EngineChoice = .native
        @Option(help: ArgumentHelp("Test file size (1G = 2^30 bytes, 1GB = 10^9).", valueName: "size")) var fileSize = "1G"
        @Option(help: ArgumentHelp("Measured seconds per workload (video: per step).", valueName: "seconds")) var duration: Double = 5
        @Option(help: ArgumentHelp("Run every workload this many times on every engine, interleaved; figures are medians with their range.", valueName: "n")) var rounds = 1
        @Option(help: ArgumentHelp("Mark a figure noisy when its spread over the rounds is above this many percent.", valueName: "percent")) var noiseThreshold: Double = 10
        @Option(help: ArgumentHelp("Seconds of I/O before measuring, excluded from results.", valueName: "seconds")) var ramp: Double = 1
        @Option(help: ArgumentHelp("Only cdm workloads starting with this name, e.g. \"RND4K Q1T1\" (repeatable).", valueName: "name")) var only: [String] = []
        @Flag(help: "Run where direct I/O is impossible (tmpfs); results are marked cached.") var allowCached = false
        @Flag(help: "Afterwards write checksummed blocks over a test file and read them back.") var verify = false
        @Option(help: ArgumentHelp("Video format: \(VideoFormat.presets.map(\.name).joined(separator: ", ")), or 'custom' with --stream-rate.", valueName: "name"))
        var videoFormat = "prores422hq-uhd25"
        @Option(help: ArgumentHelp("Rate of one custom stream, e.g. 92MB/s or 737Mbit.", valueName: "rate")) var streamRate: String?
        @Option(help: ArgumentHelp("Frames per second of a custom stream.", valueName: "fps")) var fps: Double = 25
        @Option(help: ArgumentHelp("Most streams to try (video).", valueName: "n")) var streams = 4
        @Option(help: "write (ingest) or read (playback), for video.") var videoMode: VideoSettings.Mode = .write
        @Option(name: .customLong("fio-option"), help: ArgumentHelp("Extra fio option name=value (allow-listed; repeatable).", valueName: "opt"))
        var fioOptions: [String] = []
        @Flag(help: "Print the run as JSON instead of a table.") var json = false

        func settings() throws -> BenchSettings {
            var settings = BenchSettings(preset: preset, target: target)
            settings.engines = engine.engines
            guard let size = Quantity.bytes(fileSize) else { throw ValidationError("--file-size: cannot read '\(fileSize)'") }
            settings.fileSize = size
            settings.duration = duration
            settings.rampUp = ramp
            settings.only = only
            settings.allowCached = allowCached
            settings.verify = verify
            settings.fioOptions = fioOptions
            settings.rounds = rounds
            settings.noiseThreshold = noiseThreshold
            if preset == .video {
                let format: VideoFormat
                if let streamRate {
                    guard let rate = Quantity.rate(streamRate) else { throw ValidationError("--stream-rate: cannot read '\(streamRate)'") }
                    format = VideoFormat(name: "custom \(streamRate) \(fps)p", bytesPerSecond: rate, framesPerSecond: fps)
                } else if let known = VideoFormat.preset(named: videoFormat) {
                    format = known
                } else {
                    throw ValidationError("--video-format: unknown '\(videoFormat)'; use one of \(VideoFormat.presets.map(\.name)) or --stream-rate")
                }
                settings.video = VideoSettings(format: format, maxStreams: streams, duration: duration, mode: videoMode)
            }
            return settings
        }

        /// Where the run is stored: the --data-dir given, or ./burg_data when it exists; nil: not stored.
        var storage: FilePath? {
            if let dataDirPath { return FilePath(dataDirPath) }
            var status = stat()
            return stat(DataDirectory.defaultPath.string, &status) == 0 ? DataDirectory.defaultPath : nil
        }

        func run() async throws {
            let settings = try settings()
            try await reportingErrors {
                let storage = storage
                let burgSettings = try await BurgSettings.load(dataDir: storage ?? DataDirectory.defaultPath, configFile: config)
                let benchConfiguration = BenchConfiguration(settings: burgSettings)
                // Refusals (target, space, options, fio) come first and leave everything unchanged.
                let prepared = try BenchRunner(configuration: benchConfiguration).prepare(settings)
                let store: Store?
                do {
                    store = try storage.map { path in
                        var configuration = StoreConfiguration(dataDirectory: path)
                        configuration.createIfMissing = true
                        return try Store(configuration, migrations: BurgSchema.migrations)
                    }
                } catch {
                    prepared.target.release()
                    throw error
                }
                let cancellation = BenchCancellation.onSignals()
                let progress = ProgressLine()
                var run = try prepared.run(cancellation: cancellation) { progress.show($0) }
                progress.finish()
                if let store {
                    run.id = try BenchHistory.save(run, in: store)
                } else {
                    printError("note: the run was not stored (no data directory: pass --data-dir DIR to keep runs for `burg bench history`)")
                }
                print(json ? try BenchReport.json(run) : BenchReport.table(run))
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List stored runs, newest first.")
        @OptionGroup var dataDir: DataDirOptions
        @Option(help: "How many runs.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let runs = try BenchHistory.list(in: dataDir.openStore(create: false), limit: limit)
                if json { return try DBCommand.printJSON(runs) }
                if runs.isEmpty { print("no stored runs; `burg bench run --target DIR` makes one") }
                for run in runs {
                    let when = Date(timeIntervalSince1970: Double(run.startedAt) / 1000)
                    let flags = (run.cached ? ["cached"] : []) + run.flags
                    print("\(run.id)\t\(when)\t\(run.preset.rawValue)\t\(run.engines.map(\.rawValue).joined(separator: "+"))\t"
                        + "\(run.rounds) round\(run.rounds == 1 ? "" : "s")\t\(run.target)\(flags.isEmpty ? "" : "\t" + flags.joined(separator: " "))")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a stored run.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "Run id (see `burg bench history`).") var id: Int64
        @Flag(help: "Print JSON (samples included).") var json = false

        func run() async throws {
            try await reportingErrors {
                let run = try BenchHistory.load(id, in: dataDir.openStore(create: false))
                print(json ? try BenchReport.json(run) : BenchReport.table(run))
            }
        }
    }

    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two stored runs workload by workload (B relative to A).",
            discussion: """
                Each ratio B/A is the median over the rounds both runs have, paired by round number, with its \
                range; "B faster" or "B slower" is said only when every round's ratio lies on that side of 1, \
                otherwise "same" within noise. Runs of one round give no range: use --rounds 5.
                """)
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "Run A.") var a: Int64
        @Argument(help: "Run B.") var b: Int64

        func run() async throws {
            try await reportingErrors {
                let store = try dataDir.openStore(create: false)
                print(BenchReport.compare(try BenchHistory.load(a, in: store), try BenchHistory.load(b, in: store)))
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a stored run as CSV or JSON to stdout.")
        @OptionGroup var dataDir: DataDirOptions
        @Argument(help: "Run id.") var id: Int64
        @Option(help: "csv or json.") var format: ExportFormat = .json

        enum ExportFormat: String, ExpressibleByArgument, CaseIterable { case csv, json }

        func run() async throws {
            try await reportingErrors {
                let run = try BenchHistory.load(id, in: dataDir.openStore(create: false))
                print(format == .csv ? BenchReport.csv(run) : try BenchReport.json(run), terminator: format == .csv ? "" : "\n")
            }
        }
    }
}

enum EngineChoice: String, ExpressibleByArgument, CaseIterable {
    case native, fio, both
    var engines: [Engine] {
        switch self {
        case .native: [.native]
        case .fio: [.fio]
        case .both: [.native, .fio]
        }
    }
}

extension Preset: ExpressibleByArgument {}
extension VideoSettings.Mode: ExpressibleByArgument {}

/// The live progress line on stderr: rewritten in place on a terminal, one line per second otherwise.
final class ProgressLine: Sendable {
    private let terminal = isatty(STDERR_FILENO) == 1

    func show(_ progress: BenchProgress) {
        let text = "\(progress.phase) [\(progress.engine.rawValue)]  "
            + ThroughputUnit.megabytes.format(progress.bytesPerSecond) + " ("
            + ThroughputUnit.mebibytes.format(progress.bytesPerSecond) + ")  "
            + "\(whole(progress.iops)) IOPS  \(whole(progress.elapsed)) s elapsed, \(whole(progress.remaining.rounded(.up))) s left"
        emit(terminal ? "\r\u{1B}[K" + text : text + "\n")
    }

    private func whole(_ value: Double) -> Int {
        value.isFinite && abs(value) < 1e15 ? Int(value) : 0
    }

    func finish() {
        if terminal { emit("\r\u{1B}[K") }
    }

    private func emit(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
