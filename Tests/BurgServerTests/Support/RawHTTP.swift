import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Bytes written to a loopback socket as they are — for requests no HTTP client library would send
/// (a body shorter than its Content-Length, a malformed chunk size) — and what the server answers.
enum RawHTTP {
    struct Answer {
        /// `HTTP/1.1 413 Content Too Large`, or "" when the server closed without answering.
        var statusLine: String
        var text: String
        var elapsed: Duration
        var status: Int { statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0 }
    }

    /// Sends `bytes` to 127.0.0.1:`port`; with `halfClose`, then shuts the sending side (the client
    /// has nothing more to say). Reads the answer until the server closes or `timeout` passes.
    static func send(port: Int, _ bytes: [UInt8], halfClose: Bool, timeout: Duration = .seconds(5)) throws -> Answer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect: \(errno)") }
        var seconds = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        let start = ContinuousClock.now
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { break }  // the server may close early (that is what some refusals do)
            sent += count
        }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while ContinuousClock.now - start < timeout {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += chunk[..<count]
            // One answer is enough: stop once its head and declared body are in.
            let text = String(decoding: received, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let head = text[..<end.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text[..<end.upperBound].utf8.count >= length { break }
            }
        }
        let text = String(decoding: received, as: UTF8.self)
        let statusLine = text.components(separatedBy: "\r\n").first ?? ""
        return Answer(statusLine: statusLine, text: text, elapsed: ContinuousClock.now - start)
    }

    /// A request head (and body) as bytes, lines joined by CRLF.
    static func request(_ lines: [String], body: String = "") -> [UInt8] {
        Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }
}
