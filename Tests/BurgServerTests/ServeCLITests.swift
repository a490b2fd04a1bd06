import BurgCore
import BurgTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `burg serve` refuses a bad `--http` while parsing the command line, before the data directory exists,
/// and on SIGTERM drains HTTP before it stops what requests depend on.
@Suite struct ServeCLITests {
    @Test(arguments: [
        ("127.0.0.1:notaport", "\"notaport\" is not a port number"),
        ("127.0.0.1:99999", "99999 is not a port (1…65535)"),
        ("localhost", "\"localhost\" has no port"),
        (":8090", "\":8090\" has no host"),
    ])
    func aMalformedHTTPAddressIsRefusedInWordsAndNothingIsCreated(address: String, reason: String) async throws {
        try await offThePool {
        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data")
        let serve = try ChildProcess.run(["serve", "--http", address, "--data-dir", dataDir.string], timeout: .seconds(30))
        #expect(serve.status == ExitStatus.usage)
        #expect(serve.firstLine == "Error: The value '\(address)' is invalid for '--http <HOST:PORT>': --http takes HOST:PORT and \(reason); e.g. --http 127.0.0.1:8090, or 0.0.0.0:8090 for every interface", "\(serve.standardError)")
        #expect(serve.errorLines.contains { $0.hasPrefix("Usage: burg serve") }, "the usage shown is serve's, not burg's: \(serve.standardError)")
        #expect(!FileManager.default.fileExists(atPath: dataDir.string), "nothing is created for a refused command line")
        }
    }

    @Test func aTakenPortExits75AndCreatesNoDataDirectory() async throws {
        try await offThePool {
        // Another process listens on the port.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(listener, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))

        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data")
        let serve = try ChildProcess.run(["serve", "--http", "127.0.0.1:\(port)", "--data-dir", dataDir.string], timeout: .seconds(30))
        #expect(serve.status == ExitStatus.tempFail)
        #expect(serve.firstLine == "burg: cannot listen on 127.0.0.1:\(port): another process (another `burg serve`?) already listens there; stop it or pass --http HOST:PORT", "\(serve.standardError)")
        #expect(!FileManager.default.fileExists(atPath: dataDir.string), "nothing is created when the port is taken")
        }
    }

    @Test func anInvalidOptionIsRefusedBeforeTheDataDirectoryIsCreated() async throws {
        try await offThePool {
        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data")
        let serve = try ChildProcess.run(["serve", "--http", "127.0.0.1:0", "--bcrypt-cost", "2", "--data-dir", dataDir.string], timeout: .seconds(30))
        #expect(serve.status == ExitStatus.usage)
        #expect(serve.firstLine == "Error: --bcrypt-cost must be from 4 to 31, not 2", "\(serve.standardError)")
        #expect(!FileManager.default.fileExists(atPath: dataDir.string))
        }
    }

    /// A request whose body is still arriving when SIGTERM comes is answered, and only afterwards does
    /// store maintenance stop: the HTTP server drains first.
    @Test func aRequestInFlightCompletesOnSIGTERMWhileMaintenanceStillRuns() async throws {
        try await offThePool {
        let dir = try TemporaryDirectory()
        let serve = try ChildProcess(BuiltProducts.burg, ["serve", "--http", "127.0.0.1:0", "--data-dir", dir.path("data").string])
        defer { if serve.isRunning { serve.signal(SIGKILL) } }
        let listening = try serve.waitForLine(timeout: .seconds(60)) { $0.contains("Server started and listening on") }
        let port = try #require(listening.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression)
            .flatMap { Int(listening[$0].split(separator: ":").last ?? "") })

        let body = Array(#"{"email": "drain@example.com", "password": "long enough pass", "passwordConfirm": "long enough pass"}"#.utf8)
        let connection = try Self.connect(port: port)
        defer { close(connection) }
        let head = "POST /api/collections/users/records HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        try Self.send(connection, Array(head.utf8) + body.prefix(10))
        usleep(200_000)  // the server has the request's head
        serve.signal(SIGTERM)
        // Shutdown has begun once the server stops accepting connections.
        let deadline = ContinuousClock.now + .seconds(20)
        while let probe = try? Self.connect(port: port) {
            close(probe)
            try #require(ContinuousClock.now < deadline, "the server still accepts connections 20 s after SIGTERM")
            usleep(20_000)
        }
        usleep(300_000)
        try Self.send(connection, Array(body.dropFirst(10)))
        let reply = Self.receiveHead(connection)
        #expect(reply.hasPrefix("HTTP/1.1 200"), "the request in flight was answered: \(reply)")
        #expect(try serve.wait(timeout: .seconds(60)) == 0, "\(serve.standardError)")

        func index(_ message: String) -> Int? {
            serve.lines.firstIndex { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["message"] as? String == message
            }
        }
        let answered = try #require(index("request"), "no request log line: \(serve.lines.suffix(10))")
        let maintenanceStopped = try #require(index("store maintenance stopped"), "\(serve.lines.suffix(10))")
        #expect(answered < maintenanceStopped, "maintenance stopped before the request in flight was answered: \(serve.lines.suffix(10))")
        }
    }

    static func connect(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        // A reply that never comes fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw TestFailure("cannot connect to port \(port): errno \(errno)")
        }
        return descriptor
    }

    static func send(_ descriptor: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw TestFailure("send failed: errno \(errno)") }
            sent += written
        }
    }

    /// The reply's head (up to the empty line), or what arrived before the connection closed.
    static func receiveHead(_ descriptor: Int32) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).contains("\r\n\r\n") {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
