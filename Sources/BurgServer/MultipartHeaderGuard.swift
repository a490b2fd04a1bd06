import NIOCore

/// Refuses a multipart body in which a part's header *name* holds a byte outside ASCII, before the body
/// reaches MultipartKit: its parser (4.7.1) looks such a byte up in a 128-entry table and traps, which
/// would end the whole server on one request. Header names are ASCII tokens (RFC 7578, RFC 9110); values
/// and bodies may hold any byte and are not touched.
///
/// The guard follows the body as it streams in and, to stay a superset of the parser's header-name
/// state, treats as a header name every byte that follows a `--<boundary>\r\n` line before the next
/// `\r\n\r\n`, up to the first `:` of its line. A part's content that happens to contain its boundary
/// line is refused, never passed: the guard can only say no more often than the parser would fail.
struct MultipartHeaderGuard {
    /// `--<boundary>\r\n`, and the KMP fallback table for finding it in a stream in one pass.
    private let pattern: [UInt8]
    private let fallback: [Int]
    private var matched = 0
    private var inHeaders = false
    private var lineHasColon = false
    /// How much of `\r\n\r\n` the last bytes were (the end of a part's headers).
    private var blankLine = 0

    init(boundary: String) {
        pattern = Array("--\(boundary)\r\n".utf8)
        var table = [0]
        var length = 0
        for index in pattern.indices.dropFirst() {
            while length > 0 && pattern[index] != pattern[length] { length = table[length - 1] }
            if pattern[index] == pattern[length] { length += 1 }
            table.append(length)
        }
        fallback = table
    }

    /// False when `buffer` holds a non-ASCII byte in a header name; call with every buffer, in order.
    mutating func allows(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            for byte in bytes where !allows(byte) { return false }
            return true
        }
    }

    private mutating func allows(_ byte: UInt8) -> Bool {
        while matched > 0 && byte != pattern[matched] { matched = fallback[matched - 1] }
        if byte == pattern[matched] { matched += 1 }
        if matched == pattern.count {
            matched = fallback[matched - 1]
            inHeaders = true
            lineHasColon = false
            blankLine = 2  // the boundary line's own \r\n: a \r\n right after it ends empty headers
            return true
        }
        guard inHeaders else { return true }
        switch (blankLine, byte) {
        case (0, UInt8(ascii: "\r")), (2, UInt8(ascii: "\r")): blankLine += 1
        case (1, UInt8(ascii: "\n")), (3, UInt8(ascii: "\n")): blankLine += 1
        case (_, UInt8(ascii: "\r")): blankLine = 1
        default: blankLine = 0
        }
        if blankLine == 4 {
            inHeaders = false
            return true
        }
        if byte == UInt8(ascii: "\n") { lineHasColon = false }
        if byte == UInt8(ascii: ":") { lineHasColon = true }
        return byte < 0x80 || lineHasColon
    }
}
