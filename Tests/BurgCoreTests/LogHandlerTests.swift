@testable import BurgCore
import BurgTestSupport
import Foundation
import Logging
import Synchronization
import SystemPackage
import Testing

@Suite struct LogHandlerTests {
    // MARK: - RotatingLogFile

    @Test func rotationKeepsAtMostMaxFilesOfAtMostMaxBytesAndLosesOnlyTheOldestLines() throws {
        let dir = try TemporaryDirectory()
        let maxBytes = 4096, maxFiles = 4, total = 2000
        // Lines of varying length, so that file boundaries fall anywhere; two instances, so that a
        // re-opened file's existing size counts too.
        var file: RotatingLogFile? = try RotatingLogFile(directory: dir.path, maxBytes: maxBytes, maxFiles: maxFiles)
        for number in 1...total {
            if number == 700 {
                #expect(file?.failedWrites == 0)
                file = try RotatingLogFile(directory: dir.path, maxBytes: maxBytes, maxFiles: maxFiles)
            }
            file?.write(Self.numberedLine(number))
        }
        #expect(file?.failedWrites == 0)

        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path.string).sorted()
        #expect(names == ["burg.log", "burg.log.1", "burg.log.2", "burg.log.3"])
        let files = Self.logFiles(in: dir, maxFiles: maxFiles)
        for (name, content) in files {
            #expect(content.utf8.count <= maxBytes, "\(name) has \(content.utf8.count) bytes")
            #expect(content.hasSuffix("\n"), "\(name) ends mid-line")
            var status = stat()
            #expect(stat(dir.path(name).string, &status) == 0)
            #expect(status.st_mode & 0o777 == 0o600, "\(name) has mode \(String(status.st_mode & 0o777, radix: 8))")
        }
        // Every rotated file was full: the next file's first line would not have fitted.
        for (older, newer) in zip(files, files.dropFirst()) {
            let firstOfNewer = newer.content.prefix { $0 != "\n" }.utf8.count + 1
            #expect(older.content.utf8.count + firstOfNewer > maxBytes, "\(older.name) rotated early")
        }

        let lines = files.flatMap { $0.content.split(separator: "\n", omittingEmptySubsequences: false).dropLast() }
        let numbers = lines.map { Int($0.prefix(6)) ?? -1 }
        let first = try #require(numbers.first)
        #expect(first > 1, "nothing was dropped: the test wrote too little")
        #expect(numbers == Array(first...total))
        for (line, number) in zip(lines, numbers) where line != Self.numberedLine(number) {
            Issue.record("line \(number) is damaged: \(line)")
        }
    }

    @Test func aFailingWriteIsCountedAndNeverThrown() throws {
        // /dev/full accepts the open and fails every write with ENOSPC. (maxBytes is large and nothing
        // is ever written, so rotation never renames anything in /dev.)
        let full = try RotatingLogFile(directory: "/dev", baseName: "full", maxBytes: 1 << 30, maxFiles: 2)
        for number in 1...50 { full.write(Self.numberedLine(number)) }
        #expect(full.failedWrites == 50)
    }

    enum Unopenable: String, CaseIterable, Sendable {
        case missingDirectory, directoryIsAFile, logIsADirectory, unwritableDirectory
    }

    @Test(arguments: Unopenable.allCases)
    func aLogThatCannotBeOpenedGivesAnErrorNamingThePath(_ problem: Unopenable) throws {
        let dir = try TemporaryDirectory()
        var directory = dir.path
        let expected: AtomicFileError.Code
        switch problem {
        case .missingDirectory:
            directory = dir.path("absent/logs")
            expected = .directoryMissing
        case .directoryIsAFile:
            directory = dir.path("file")
            try AtomicFile.write(Array("x".utf8), to: directory)
            expected = .directoryMissing
        case .logIsADirectory:
            try FileManager.default.createDirectory(atPath: dir.path("burg.log").string, withIntermediateDirectories: false)
            expected = .targetIsDirectory
        case .unwritableDirectory:
            guard geteuid() != 0 else { return }  // root ignores permissions
            directory = dir.path("locked")
            try FileManager.default.createDirectory(atPath: directory.string, withIntermediateDirectories: false)
            #expect(chmod(directory.string, 0o500) == 0)
            expected = .permissionDenied
        }
        let error = try #require(throws: AtomicFileError.self) {
            try RotatingLogFile(directory: directory, maxBytes: 4096)
        }
        #expect(error.code == expected)
        #expect(error.path == directory.appending("burg.log"))
        #expect(error.description.contains(directory.appending("burg.log").string))
        if problem != .logIsADirectory { #expect(error.underlying?.call == "open") }
    }

    // MARK: - JSONLogHandler

    @Test func concurrentLoggersWriteOnlyWholeJSONLinesToStdoutAndFile() throws {
        let dir = try TemporaryDirectory()
        let file = try RotatingLogFile(directory: dir.path, maxBytes: 256 * 1024, maxFiles: 60)
        // stdout is replaced by a pipe: writes longer than PIPE_BUF (4 KiB) to a pipe interleave unless
        // the handler serialises them.
        let pipe = Pipe()
        #if os(Linux)
        // The smallest pipe buffer (F_SETPIPE_SZ, one page), so that most lines cannot go in at once: a
        // writer waits for the reader mid-line, and without the handler's lock another writer gets in.
        #expect(fcntl(pipe.fileHandleForWriting.fileDescriptor, 1031 /* F_SETPIPE_SZ */, 4096) >= 0)
        #endif
        let drained = Drained()
        let reader = Thread {
            drained.data.withLock { $0 = pipe.fileHandleForReading.readDataToEndOfFile() }
            drained.done.signal()
        }
        reader.start()

        var handler = JSONLogHandler(label: "burg.test", stdout: false, file: file, logLevel: .trace)
        handler.standardOutput = FileDescriptor(rawValue: pipe.fileHandleForWriting.fileDescriptor)
        let shared = handler
        let threads = 8, perThread = 150
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var logger = Logger(label: "burg.test") { _ in shared }
            logger[metadataKey: "thread"] = "\(thread)"
            for sequence in 0..<perThread {
                let body = String(repeating: Character(UnicodeScalar(UInt8(97 + thread))), count: (sequence * 37) % 9000)
                logger.info("message \(body)\n", metadata: ["sequence": "\(sequence)"])
            }
        }
        try pipe.fileHandleForWriting.close()
        drained.done.wait()
        #expect(file.failedWrites == 0)

        let stdoutText = String(decoding: drained.data.withLock { $0 }, as: UTF8.self)
        let fileText = Self.logFiles(in: dir, maxFiles: 60).map(\.content).joined()
        #expect(!FileManager.default.fileExists(atPath: dir.path("burg.log.59").string), "lines were dropped")
        for (output, text) in [("stdout", stdoutText), ("file", fileText)] {
            #expect(text.hasSuffix("\n"))
            var problems: [String] = []
            var next = [Int](repeating: 0, count: threads)
            for line in text.split(separator: "\n") {
                guard let object = Self.parse(line),
                      let thread = (object["thread"] as? String).flatMap({ Int($0) }),
                      let sequence = (object["sequence"] as? String).flatMap({ Int($0) }),
                      let message = object["message"] as? String
                else {
                    problems.append("not a whole JSON line: \(line.prefix(120))")
                    continue
                }
                // One thread's lines stay in order; the message (with its newline) is intact.
                if sequence != next[thread] { problems.append("thread \(thread): \(sequence) after \(next[thread] - 1)") }
                next[thread] = sequence + 1
                let letter = Character(UnicodeScalar(UInt8(97 + thread)))
                if message != "message " + String(repeating: letter, count: (sequence * 37) % 9000) + "\n" {
                    problems.append("thread \(thread) line \(sequence): message damaged")
                }
            }
            #expect(problems.isEmpty, "\(output): \(problems.count) problems, first: \(problems.prefix(3))")
            #expect(next == [Int](repeating: perThread, count: threads), "\(output): lines missing")
        }
    }

    @Test func stringsAreEscapedAndMetadataIsFlattenedNestedAndKeptClearOfTheLineFields() throws {
        let dir = try TemporaryDirectory()
        let file = try RotatingLogFile(directory: dir.path)
        let provider = Logger.MetadataProvider { ["request": "from-provider", "trace": "t-1"] }
        var handler = JSONLogHandler(
            label: "burg.\"http\"", stdout: false, file: file, logLevel: .info, metadataProvider: provider)
        handler.metadata = ["service": "burg", "request": "from-handler", "meta_label": "taken"]
        let logger = Logger(label: "ignored") { _ in handler }

        let message = "say \"hi\"\\ back\\slash\nnext line\r\ttab \u{0}\u{1}\u{1F}\u{7F} é ☃ 😀 \u{2028}"
        logger.debug("below the level: not written")
        logger.info(
            "\(message)",
            metadata: [
                "request": "from-call",
                "message": "clash", "time": "clash-time", "level": "clash-level", "label": "clash-label",
                "we\"ird\nkey": "v\u{2}",
                "count": .stringConvertible(42),
                "nested": ["path": "/api/x", "ids": ["1", ["deep": "yes"]], "empty": [:]],
            ])
        logger.error("failed", error: CocoaError(.fileNoSuchFile))

        // Two lines (the debug one is below the level), each ended by the only newlines in the file.
        let lines = String(decoding: try #require(try AtomicFile.read(dir.path("burg.log"))), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false)
        try #require(lines.count == 3 && lines.last == "", "expected two lines: \(lines)")
        let object = try #require(Self.parse(lines[0]))

        #expect(object["message"] as? String == message)
        #expect(object["label"] as? String == "burg.\"http\"")
        #expect(object["level"] as? String == "info")
        #expect(object["meta_message"] as? String == "clash")
        #expect(object["meta_time"] as? String == "clash-time")
        #expect(object["meta_level"] as? String == "clash-level")
        #expect(object["meta_meta_label"] as? String == "clash-label")
        #expect(object["meta_label"] as? String == "taken")
        #expect(object["we\"ird\nkey"] as? String == "v\u{2}")
        #expect(object["count"] as? String == "42")
        // The call's metadata wins over the provider's, which wins over the handler's.
        #expect(object["request"] as? String == "from-call")
        #expect(object["trace"] as? String == "t-1")
        #expect(object["service"] as? String == "burg")
        let nested = try #require(object["nested"] as? [String: Any])
        #expect(nested["path"] as? String == "/api/x")
        #expect((nested["empty"] as? [String: Any])?.isEmpty == true)
        let ids = try #require(nested["ids"] as? [Any])
        #expect(ids.count == 2 && ids[0] as? String == "1")
        #expect((ids[1] as? [String: Any])?["deep"] as? String == "yes")
        #expect(object.count == 15, "unexpected keys: \(object.keys.sorted())")

        let time = try #require(object["time"] as? String)
        #expect(time.wholeMatch(of: #/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/#) != nil, "time \(time)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(formatter.date(from: time))
        #expect(abs(date.timeIntervalSinceNow) < 60)

        let failure = try #require(Self.parse(lines[1]))
        #expect(failure["level"] as? String == "error")
        #expect((failure["error.message"] as? String)?.isEmpty == false)
        #expect((failure["error.type"] as? String)?.contains("CocoaError") == true)
    }

    // MARK: - Support

    private final class Drained: Sendable {
        let data = Mutex(Data())
        let done = DispatchSemaphore(value: 0)
    }

    /// `<number, 6 digits> <filler of a length that varies with the number>`.
    private static func numberedLine(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: 6 - digits.count) + digits + " "
            + String(repeating: "x", count: (number * 7919) % 120)
    }

    /// The log files from oldest to newest, with their content.
    private static func logFiles(in dir: TemporaryDirectory, maxFiles: Int) -> [(name: String, content: String)] {
        let names = stride(from: maxFiles - 1, through: 1, by: -1).map { "burg.log.\($0)" } + ["burg.log"]
        return names.compactMap { name in
            guard let bytes = try? AtomicFile.read(dir.path(name)) else { return nil }
            return (name, String(decoding: bytes, as: UTF8.self))
        }
    }

    private static func parse(_ line: Substring) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }
}
