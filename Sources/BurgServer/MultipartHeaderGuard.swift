/// Refuses a multipart body in which a part's header name holds a byte outside ASCII, before the
/// parser sees it: MultipartKit 4.7.1 looks such a byte up in a 128-entry table and traps, which would
/// take the whole server down. Header names are ASCII tokens (RFC 7578, RFC 9110); values (a UTF-8
/// `filename`) are not checked.
///
/// Errs on the side of refusing: after every `--boundary` in the stream up to the next empty line
/// (CRLF CRLF), each line's bytes before its first `:` must be ASCII. That covers every place the
/// parser reads a header name, since it leaves a part's headers only at an empty line.
struct MultipartHeaderGuard {
    private let delimiter: [UInt8]
    private let failure: [Int]  // Knuth–Morris–Pratt: the delimiter's longest proper border per prefix
    private var matched = 0
    private var inHeaders = false
    private var sawColon = false
    private var lineBreaks = 0  // of "\r\n\r\n", how much was just seen

    init(boundary: String) {
        delimiter = Array("--\(boundary)".utf8)
        var failure = [Int](repeating: 0, count: delimiter.count)
        var k = 0
        for i in delimiter.indices.dropFirst() {
            while k > 0 && delimiter[i] != delimiter[k] { k = failure[k - 1] }
            if delimiter[i] == delimiter[k] { k += 1 }
            failure[i] = k
        }
        self.failure = failure
    }

    /// False when `bytes` (the next piece of the body) puts a non-ASCII byte into a header name.
    mutating func accepts(_ bytes: some Sequence<UInt8>) -> Bool {
        for byte in bytes {
            if inHeaders {
                switch byte {
                case UInt8(ascii: "\r"):
                    lineBreaks = lineBreaks == 2 ? 3 : 1
                    sawColon = false
                case UInt8(ascii: "\n"):
                    lineBreaks = lineBreaks == 1 ? 2 : lineBreaks == 3 ? 4 : 0
                    sawColon = false
                    if lineBreaks == 4 { inHeaders = false; lineBreaks = 0 }
                case UInt8(ascii: ":"):
                    sawColon = true
                    lineBreaks = 0
                default:
                    if byte >= 0x80 && !sawColon { return false }
                    lineBreaks = 0
                }
            }
            while matched > 0 && byte != delimiter[matched] { matched = failure[matched - 1] }
            if byte == delimiter[matched] { matched += 1 }
            if matched == delimiter.count {
                matched = failure[matched - 1]
                inHeaders = true
                sawColon = false
                lineBreaks = 0
            }
        }
        return true
    }
}
