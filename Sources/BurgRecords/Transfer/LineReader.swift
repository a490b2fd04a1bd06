import Foundation

/// Reads a file descriptor in 1 MiB chunks and yields lines (without the newline), keeping memory flat
/// whatever the file size. A final line without a newline is yielded too; `\r\n` endings are accepted.
struct LineReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var exhausted = false
    private let chunkSize = 1 << 20
    private(set) var bytesRead = 0

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// The next line's bytes, or nil at the end.
    mutating func next() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var line = buffer[start..<newline]
                start = newline + 1
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                return line
            }
            if exhausted {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                return line
            }
            try fill()
        }
    }

    private mutating func fill() throws {
        if start > 0 {
            buffer.removeSubrange(0..<start)
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
