import Foundation

/// Reads a file descriptor in 1 MiB chunks and yields lines (without the newline), keeping memory flat
/// whatever the file size: a line longer than `maxLineLength` bytes (or an endless stream without a
/// newline, such as `/dev/zero`) throws ``LineTooLong`` once that many bytes are buffered. A final line
/// without a newline is yielded too; `\r\n` endings are accepted.
struct LineReader {
    /// A line past the limit; `bytes` is the limit.
    struct LineTooLong: Error { var bytes: Int }

    private let descriptor: Int32
    private let maxLineLength: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the search for the next newline goes on (bytes before it hold none), so a long line is
    /// scanned once, not once per chunk.
    private var scanned = 0
    private var exhausted = false
    private let chunkSize: Int
    private(set) var bytesRead = 0

    /// `chunkSize` is how many bytes one read asks for (1 MiB; the fuzz harness uses a few bytes, so
    /// that lines and `\r\n` pairs straddle reads).
    init(descriptor: Int32, maxLineLength: Int = ImportOptions().maxLineLength, chunkSize: Int = 1 << 20) {
        self.descriptor = descriptor
        self.maxLineLength = maxLineLength
        self.chunkSize = chunkSize
    }

    /// The next line's bytes, or nil at the end.
    mutating func next() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[max(start, scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
                var line = buffer[start..<newline]
                start = newline + 1
                scanned = start
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                guard line.count <= maxLineLength else { throw LineTooLong(bytes: maxLineLength) }
                return line
            }
            scanned = buffer.count
            // One byte more than the limit may be a line of exactly the limit whose `\r\n` a read split.
            let pending = buffer.count - start
            guard pending <= maxLineLength || (pending == maxLineLength + 1 && buffer.last == UInt8(ascii: "\r") && !exhausted) else {
                throw LineTooLong(bytes: maxLineLength)
            }
            if exhausted {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                scanned = start
                return line
            }
            try fill()
        }
    }

    private mutating func fill() throws {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        let oldCount = buffer.count
        buffer.reserveCapacity(oldCount + chunkSize)
        buffer.append(contentsOf: repeatElement(0, count: chunkSize))
        let count = buffer.withUnsafeMutableBytes { raw in
            read(descriptor, raw.baseAddress! + oldCount, chunkSize)
        }
        if count < 0 {
            buffer.removeSubrange(oldCount...)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        buffer.removeSubrange((oldCount + count)...)
        bytesRead += count
        if count == 0 { exhausted = true }
    }
}
