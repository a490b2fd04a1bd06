@testable import BurgRecords
import Foundation

/// The NDJSON/CSV line reader, fed through a pipe in chunks of a size the input picks. Invariants: the
/// lines it yields are exactly the input split at `\n` (one `\r` before each `\n` dropped, a last line
/// without `\n` kept), and it throws `LineTooLong` exactly when one of those lines is longer than the limit,
/// after yielding the lines before it.
enum LineHarness {
    static func run(_ input: [UInt8]) {
        guard input.count >= 2 else { return }
        let maxLineLength = Int(input[0] % 64) + 1
        let chunkSize = Int(input[1] % 16) + 1
        let body = Array(input.dropFirst(2))

        // The expected lines, and whether one of them is too long.
        var expected: [[UInt8]] = []
        var tooLong = false
        var segments = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        let lastTerminated = body.last == UInt8(ascii: "\n")
        if lastTerminated || body.isEmpty { segments.removeLast() }
        for (index, segment) in segments.enumerated() {
            var line = segment
            let terminated = index < segments.count - 1 || lastTerminated
            if terminated, line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.count > maxLineLength { tooLong = true; break }
            expected.append(line)
        }

        var descriptors: [Int32] = [0, 0]
        require(pipe(&descriptors) == 0, "pipe() failed")
        defer { close(descriptors[0]) }
        // Inputs are at most a few KiB (libFuzzer's -max_len), well under a pipe's buffer.
        body.withUnsafeBytes { raw in
            if !raw.isEmpty { require(write(descriptors[1], raw.baseAddress!, raw.count) == raw.count, "short write to the pipe") }
        }
        close(descriptors[1])

        var reader = LineReader(descriptor: descriptors[0], maxLineLength: maxLineLength, chunkSize: chunkSize)
        var lines: [[UInt8]] = []
        do {
            while let line = try reader.next() { lines.append(Array(line)) }
            require(!tooLong, "no LineTooLong for a line over \(maxLineLength) bytes (chunks of \(chunkSize)) in \(body)")
        } catch is LineReader.LineTooLong {
            require(tooLong, "LineTooLong with no line over \(maxLineLength) bytes (chunks of \(chunkSize)) in \(body)")
        } catch {
            unexpected(error, "reading lines")
        }
        require(lines == expected, "lines \(lines) instead of \(expected) (limit \(maxLineLength), chunks of \(chunkSize))")
        require(reader.bytesRead == body.count || tooLong, "read \(reader.bytesRead) of \(body.count) bytes")
    }
}

/// The CSV record parser, fed the input's lines. Invariants: it throws only its `Failure`s; the records it
/// yields, written back with its own escaping, parse to the same records.
enum CSVHarness {
    static func run(_ input: [UInt8]) {
        guard let records = parse(input) else { return }
        let written = records.map { $0.map(CSVRecordParser.escape).joined(separator: ",") }.joined(separator: "\n")
        guard let again = parse(Array(written.utf8)) else {
            require(false, "records \(records) written as \(written.debugDescription) are refused")
            return
        }
        require(again == records, "records \(records) written as \(written.debugDescription) parse to \(again)")
    }

    /// The complete records of `bytes` split at `\n`, or nil when refused or left inside a quoted field.
    static func parse(_ bytes: [UInt8]) -> [[String]]? {
        var parser = CSVRecordParser()
        var records: [[String]] = []
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            do {
                if let record = try parser.consume(line) {
                    require(!record.isEmpty, "a record with no fields")
                    records.append(record)
                }
            } catch {
                return nil
            }
        }
        return parser.isIncomplete ? nil : records
    }
}
