@testable import BurgRecords
import Foundation
import Testing

/// The line reader and CSV writer under the import and export commands; the cases here were found by the
/// `lines` and `csv` fuzz harnesses (Fuzz/burg-fuzz).
@Suite struct TransferReaderTests {
    /// The lines a LineReader yields from `bytes` through a real pipe, read `chunkSize` bytes at a time.
    static func lines(_ bytes: [UInt8], maxLineLength: Int, chunkSize: Int) throws -> [String] {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        defer { close(descriptors[0]) }
        #expect(bytes.withUnsafeBytes { write(descriptors[1], $0.baseAddress!, $0.count) } == bytes.count)
        close(descriptors[1])
        var reader = LineReader(descriptor: descriptors[0], maxLineLength: maxLineLength, chunkSize: chunkSize)
        var lines: [String] = []
        while let line = try reader.next() { lines.append(String(decoding: line, as: UTF8.self)) }
        return lines
    }

    @Test(arguments: [1, 2, 3, 4, 5, 1 << 20])
    func aLineOfExactlyTheLimitEndingInCRLFIsReadWhereverAReadSplitsIt(chunkSize: Int) throws {
        #expect(try Self.lines(Array("a&b\r\nxy\r\n".utf8), maxLineLength: 3, chunkSize: chunkSize) == ["a&b", "xy"])
    }

    @Test(arguments: [1, 2, 4, 1 << 20])
    func aLineOneByteOverTheLimitIsStillRefusedWithOrWithoutACarriageReturn(chunkSize: Int) {
        #expect(throws: LineReader.LineTooLong.self) { try Self.lines(Array("abcd\n".utf8), maxLineLength: 3, chunkSize: chunkSize) }
        // A last line without a newline keeps its \r, so it is 4 bytes.
        #expect(throws: LineReader.LineTooLong.self) { try Self.lines(Array("abc\r".utf8), maxLineLength: 3, chunkSize: chunkSize) }
        #expect(throws: LineReader.LineTooLong.self) { try Self.lines(Array("abc\rd\n".utf8), maxLineLength: 3, chunkSize: chunkSize) }
    }

    @Test(arguments: ["a\r\nb", "\r\n", "x\u{22}\u{301}y", "tab\tand\rcr"])
    func aCSVValueWithCRLFOrAQuoteUnderACombiningMarkIsQuotedAndReadBackWhole(value: String) throws {
        let field = CSVRecordParser.escape(value)
        #expect(field.hasPrefix("\"") && field.hasSuffix("\""), "\(field.debugDescription)")
        var parser = CSVRecordParser()
        var records: [[String]] = []
        for line in Array((field + ",end").utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if let record = try parser.consume(line) { records.append(record) }
        }
        #expect(records == [[value, "end"]])
    }
}
