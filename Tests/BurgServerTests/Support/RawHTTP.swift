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

    /// A socket connected to the loopback `port`: 127.0.0.1, else ::1 (an in-process test server listens
    /// on `localhost`, which may be either).
    static func connectLoopback(port: Int) throws -> Int32 {
        let v4 = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard v4 >= 0 else { throw TestFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(v4, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected == 0 { return v4 }
        let refused = errno
        close(v4)
        let v6 = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard v6 >= 0 else { throw TestFailure("connect: \(refused)") }
        var address6 = sockaddr_in6()
        address6.sin6_family = sa_family_t(AF_INET6)
        address6.sin6_port = in_port_t(UInt16(port).bigEndian)
        address6.sin6_addr = in6addr_loopback
        let connected6 = withUnsafePointer(to: &address6) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(v6, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard connected6 == 0 else {
            close(v6)
            throw TestFailure("connect: \(refused)")
        }
        return v6
    }

    /// Sends `bytes` to the loopback `port`; with `halfClose`, then shuts the sending side (the client
    /// has nothing more to say). Reads the answer until the server closes or `timeout` passes.
    static func send(port: Int, _ bytes: [UInt8], halfClose: Bool, timeout: Duration = .seconds(5)) async throws -> Answer {
        try await blocking { try exchange(port: port, bytes, halfClose: halfClose, timeout: timeout) }
    }

    static func exchange(port: Int, _ bytes: [UInt8], halfClose: Bool, timeout: Duration) throws -> Answer {
        let fd = try connectLoopback(port: port)
        defer { close(fd) }
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
