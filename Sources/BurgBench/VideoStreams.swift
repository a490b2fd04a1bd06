import BurgCore
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A video format as a disk sees it: a constant byte rate cut into frames.
public struct VideoFormat: Codable, Sendable, Hashable {
    public var name: String
    /// Bytes per second of one stream (decimal: 92 MB/s = 92_000_000).
    public var bytesPerSecond: Double
    public var framesPerSecond: Double

    public init(name: String, bytesPerSecond: Double, framesPerSecond: Double) {
        self.name = name
        self.bytesPerSecond = bytesPerSecond
        self.framesPerSecond = framesPerSecond
    }

    /// Bytes of one frame, rounded up to 4096 for direct I/O.
    public var frameBytes: Int {
        let raw = Int((bytesPerSecond / framesPerSecond).rounded(.up))
        return (raw + 4095) / 4096 * 4096
    }

    /// Apple's published target rates (ProRes white paper), 25 frames per second.
    public static let presets: [VideoFormat] = [
        VideoFormat(name: "prores422hq-uhd25", bytesPerSecond: 737_000_000 / 8, framesPerSecond: 25),
        VideoFormat(name: "prores422-uhd25", bytesPerSecond: 492_000_000 / 8, framesPerSecond: 25),
        VideoFormat(name: "prores4444-uhd25", bytesPerSecond: 1_106_000_000 / 8, framesPerSecond: 25),
        VideoFormat(name: "prores422hq-hd25", bytesPerSecond: 184_000_000 / 8, framesPerSecond: 25),
        VideoFormat(name: "prores422-hd25", bytesPerSecond: 122_000_000 / 8, framesPerSecond: 25),
    ]

    public static func preset(named name: String) -> VideoFormat? { presets.first { $0.name == name } }
}

/// What the video preset measures: up to `maxStreams` streams of `format`, each step one more stream.
public struct VideoSettings: Codable, Sendable, Hashable {
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// Ingest: each stream writes its frames.
        case write
        /// Playback: each stream reads its frames.
        case read
    }
    public var format: VideoFormat
    public var maxStreams: Int
    /// Seconds each step runs.
    public var duration: Double
    public var mode: Mode

    public init(format: VideoFormat, maxStreams: Int, duration: Double, mode: Mode = .write) {
        self.format = format
        self.maxStreams = maxStreams
        self.duration = duration
        self.mode = mode
    }

    /// Bytes of one stream's file: one pass of the step, at most 512 MiB (streams wrap around).
    public var fileBytesPerStream: UInt64 {
        let frames = max(1, min(Int(format.framesPerSecond * duration), (512 << 20) / format.frameBytes))
        return UInt64(frames * format.frameBytes)
    }

    public func validate() throws(BenchError) {
        guard format.bytesPerSecond > 0, format.framesPerSecond > 0, format.framesPerSecond <= 1000 else {
            throw BenchError(.invalidSettings, subject: format.name, detail: "rate and frame rate must be positive (at most 1000 fps)")
        }
        guard (1...256).contains(maxStreams) else {
            throw BenchError(.invalidSettings, subject: format.name, detail: "streams must be 1...256")
        }
        guard duration > 0 && duration <= 86_400 else {
            throw BenchError(.invalidSettings, subject: format.name, detail: "duration must be more than 0 and at most a day")
        }
        guard format.bytesPerSecond <= 1e12 else {
            throw BenchError(.invalidSettings, subject: format.name, detail: "a stream rate over 1 TB/s is not a video stream")
        }
    }
}

/// One step of the video preset: `streams` streams at once.
public struct VideoStep: Codable, Sendable, Equatable {
    public var streams: Int
    public var frames: UInt64
    /// Frames completed after the end of their frame period.
    public var lateFrames: UInt64
    /// Nanoseconds by which the latest frame missed its period's end (0: none late).
    public var worstLateness: UInt64
    public var bytes: UInt64
    public var seconds: Double
    /// Nanoseconds from the moment the slowest frame was due to its completion (native engine), or the
    /// slowest frame's completion latency (fio); nil in runs stored before it was measured.
    public var worstFrame: UInt64?
    public var bytesPerSecond: Double { seconds > 0 ? Double(bytes) / seconds : 0 }

    public init(
        streams: Int, frames: UInt64, lateFrames: UInt64, worstLateness: UInt64, bytes: UInt64, seconds: Double,
        worstFrame: UInt64?
    ) {
        self.streams = streams
        self.frames = frames
        self.lateFrames = lateFrames
        self.worstLateness = worstLateness
        self.bytes = bytes
        self.seconds = seconds
        self.worstFrame = worstFrame
    }

    /// The frame period divided by ``worstFrame``: how many times longer the slowest frame could have
    /// taken without being late (below 1: frames were late).
    public func margin(period: Double) -> Double? {
        guard let worstFrame else { return nil }
        return period / Double(max(worstFrame, 1))
    }
}

/// The video preset's outcome.
public struct VideoResult: Codable, Sendable, Equatable {
    public var settings: VideoSettings
    public var steps: [VideoStep]
    /// The highest stream count whose step had no late frame (0: not even one stream).
    public var sustainedStreams: Int
    public var cached: Bool
    /// The engine that ran the streams (nil in runs stored before fio ran them: the native engine).
    public var engine: Engine?
    /// The round (from 0), nil in runs stored before rounds existed.
    public var round: Int?
}

/// Streams paced by a frame clock: stream i issues frame k at `start + k / fps` (or as soon as it can,
/// when behind) and the frame is late when it completes after `start + (k + 1) / fps`.
public enum VideoStreams {
    /// Runs steps of 1, 2, ... `maxStreams` streams on the native engine, stopping after the first step
    /// with a late frame. `files[i]` is stream i's pre-filled file (created on demand by `makeFile`).
    public static func run(
        _ settings: VideoSettings, direct: Bool, cached: Bool, cancellation: BenchCancellation = BenchCancellation(),
        live: LiveCounters = LiveCounters(), makeFile: (Int) throws(BenchError) -> FilePath
    ) throws(BenchError) -> VideoResult {
        try run(settings, engine: .native, cached: cached, makeFile: makeFile) { (files) throws(BenchError) in
            try runStep(settings, files: files, direct: direct, cancellation: cancellation, live: live)
        }
    }

    /// Runs steps of 1, 2, ... `maxStreams` streams through `step` (given one file per stream), stopping
    /// after the first step with a late frame.
    public static func run(
        _ settings: VideoSettings, engine: Engine, cached: Bool, makeFile: (Int) throws(BenchError) -> FilePath,
        step: ([FilePath]) throws(BenchError) -> VideoStep
    ) throws(BenchError) -> VideoResult {
        try settings.validate()
        var files: [FilePath] = []
        var steps: [VideoStep] = []
        var sustained = 0
        for streams in 1...settings.maxStreams {
            while files.count < streams { files.append(try makeFile(files.count)) }
            let measured = try step(Array(files.prefix(streams)))
            steps.append(measured)
            if measured.lateFrames > 0 { break }
            sustained = streams
        }
        return VideoResult(settings: settings, steps: steps, sustainedStreams: sustained, cached: cached, engine: engine)
    }

    static func runStep(
        _ settings: VideoSettings, files: [FilePath], direct: Bool, cancellation: BenchCancellation, live: LiveCounters
    ) throws(BenchError) -> VideoStep {
        let frameBytes = settings.format.frameBytes
        let period = 1e9 / settings.format.framesPerSecond
        let frames = UInt64(max(1, (settings.duration * settings.format.framesPerSecond).rounded()))
        let framesPerFile = settings.fileBytesPerStream / UInt64(frameBytes)
        // Every stream starts on the same clock, a little ahead so that all threads are ready.
        let start = SystemIO.now() + 50_000_000
        let streams = files.enumerated().map { index, file in Stream(index: index, file: file) }
        let done = DispatchGroup()
        for stream in streams {
            done.enter()
            Thread.detachNewThread {
                stream.run(
                    frames: frames, frameBytes: frameBytes, framesPerFile: framesPerFile, period: period,
                    start: start, write: settings.mode == .write, direct: direct, cancellation: cancellation, live: live)
                done.leave()
            }
        }
        done.wait()
        if let failure = streams.lazy.compactMap(\.failure).first { throw failure }
        if cancellation.isCancelled { throw BenchError(.interrupted, subject: files[0].removingLastComponent().string) }
        let end = streams.map(\.lastCompletion).max() ?? start
        return VideoStep(
            streams: files.count, frames: streams.reduce(0) { $0 + $1.frames },
            lateFrames: streams.reduce(0) { $0 + $1.lateFrames }, worstLateness: streams.map(\.worstLateness).max() ?? 0,
            bytes: streams.reduce(0) { $0 + $1.bytes }, seconds: Double(end - start) / 1e9,
            worstFrame: streams.map(\.worstFrame).max() ?? 0)
    }

    /// One stream's thread state. `@unchecked Sendable` is safe because only the stream's own thread
    /// mutates it, and the coordinator reads it only after `DispatchGroup.wait()` returned.
    private final class Stream: @unchecked Sendable {
        let index: Int
        let file: FilePath
        var frames: UInt64 = 0
        var lateFrames: UInt64 = 0
        var worstLateness: UInt64 = 0
        var bytes: UInt64 = 0
        var lastCompletion: UInt64 = 0
        var worstFrame: UInt64 = 0
        var failure: BenchError?

        init(index: Int, file: FilePath) {
            self.index = index
            self.file = file
        }

        func run(
            frames total: UInt64, frameBytes: Int, framesPerFile: UInt64, period: Double, start: UInt64,
            write: Bool, direct: Bool, cancellation: BenchCancellation, live: LiveCounters
        ) {
            let fd: Int32
            do { fd = try SystemIO.openFile(file, direct: direct) } catch { failure = error; return }
            defer { close(fd) }
            let buffer = SystemIO.randomBuffer(frameBytes, seed: SystemIO.now() &+ UInt64(index))
            defer { free(buffer) }
            for frame in 0..<total {
                if cancellation.isCancelled { return }
                let due = start + UInt64(Double(frame) * period)
                let deadline = start + UInt64(Double(frame + 1) * period)
                sleep(until: due)
                let offset = off_t((frame % framesPerFile) * UInt64(frameBytes))
                if write { buffer.storeBytes(of: frame ^ UInt64(index) << 48, as: UInt64.self) }
                var count: Int
                repeat {
                    count = write ? pwrite(fd, buffer, frameBytes, offset) : pread(fd, buffer, frameBytes, offset)
                } while count == -1 && errno == EINTR
                let completed = SystemIO.now()
                guard count == frameBytes else {
                    failure = count < 0
                        ? SystemIO.ioError(file, write ? "pwrite" : "pread", errno)
                        : BenchError(.io, subject: file.string, detail: "short transfer of \(count) of \(frameBytes) bytes")
                    return
                }
                frames += 1
                bytes += UInt64(frameBytes)
                lastCompletion = completed
                worstFrame = max(worstFrame, completed - min(due, completed))
                live.add(bytes: UInt64(frameBytes))
                if completed > deadline {
                    lateFrames += 1
                    worstLateness = max(worstLateness, completed - deadline)
                }
            }
        }

        private func sleep(until instant: UInt64) {
            let now = SystemIO.now()
            guard instant > now else { return }
            var request = timespec(tv_sec: Int((instant - now) / 1_000_000_000), tv_nsec: Int((instant - now) % 1_000_000_000))
            var remaining = timespec()
            while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
        }
    }
}
