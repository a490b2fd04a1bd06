import Foundation
import SystemPackage

/// The video preset through fio: one fio job per stream, each on its own file, rate-limited to one frame
/// per frame period (`bs=` the frame size, `rate=` frame size times frames per second, `ioengine=psync`),
/// so that fio paces the streams as the native engine's frame clock does.
///
/// A frame is late when its completion latency exceeds the frame period; fio's `json+` output carries
/// every completion latency in histogram bins, so late frames are counted exactly per bin.
extension FioRunner {
    /// fio's arguments for one step: `files.count` streams of `settings`.
    public func videoArguments(_ settings: VideoSettings, files: [FilePath], direct: Bool) -> [String] {
        let format = settings.format
        // Global options first: fio applies options given before the first --name to every job.
        var arguments = [
            "--ioengine=psync", "--direct=\(direct ? 1 : 0)", "--bs=\(format.frameBytes)",
            "--rw=\(settings.mode == .write ? "write" : "read")", "--rate=\(UInt64((Double(format.frameBytes) * format.framesPerSecond).rounded()))",
            "--size=\(settings.fileBytesPerStream)", "--time_based", "--runtime=\(Int((settings.duration * 1000).rounded()))ms",
            "--thread", "--group_reporting", "--output-format=json+", "--status-interval=1",
        ]
        arguments += extraOptions.arguments
        for (index, file) in files.enumerated() {
            arguments += ["--name=stream\(index)", "--filename=\(file.string)"]
        }
        return arguments
    }

    /// Runs one step of `files.count` streams and reads it as a ``VideoStep``.
    public func videoStep(
        _ settings: VideoSettings, files: [FilePath], direct: Bool, cancellation: BenchCancellation = BenchCancellation(),
        live: LiveCounters = LiveCounters()
    ) throws(BenchError) -> VideoStep {
        let arguments = videoArguments(settings, files: files, direct: direct)
        let period = 1e9 / settings.format.framesPerSecond
        return try execute(
            arguments, subject: "video \(files.count) streams", seconds: settings.duration, cancellation: cancellation, live: live
        ) { (stdout) throws(BenchError) in try FioOutput.videoStep(stdout, streams: files.count, period: period) }
    }
}

extension FioOutput {
    /// One video step from fio's `json+` report of `streams` jobs reported as one group.
    static func videoStep(_ stdout: String, streams: Int, period: Double) throws(BenchError) -> VideoStep {
        let decoder = JSONDecoder()
        let reports = objects(in: stdout).compactMap { try? decoder.decode(Report.self, from: Data($0.utf8)) }
        guard let job = reports.last?.jobs.first else {
            throw BenchError(.fioFailed, subject: "video", detail: "no JSON report in fio's output: \(stdout.prefix(300))")
        }
        guard job.error == 0 else {
            throw BenchError(.fioFailed, subject: "video", detail: "fio job error \(job.error)")
        }
        var frames: UInt64 = 0, late: UInt64 = 0, bytes: UInt64 = 0, worst: UInt64 = 0
        for direction in [job.read, job.write] where direction.totalIOs > 0 {
            frames += direction.totalIOs
            bytes += direction.ioBytes
            worst = max(worst, direction.clat.max)
            for (value, count) in direction.clat.bins ?? [:] where Double(UInt64(value) ?? 0) > period { late += count }
        }
        let seconds = Double(max(job.read.runtime, job.write.runtime)) / 1000
        return VideoStep(
            streams: streams, frames: frames, lateFrames: late, worstLateness: UInt64(max(0, Double(worst) - period)),
            bytes: bytes, seconds: seconds, worstFrame: worst)
    }
}
