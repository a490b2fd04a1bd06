import BurgCore
import BurgTestSupport
import Foundation
import Testing

/// `burg serve` refuses a bad `--http` while parsing the command line, before the data directory exists.
@Suite struct ServeCLITests {
    @Test(arguments: [
        ("127.0.0.1:notaport", "\"notaport\" is not a port number"),
        ("127.0.0.1:99999", "99999 is not a port (1…65535)"),
        ("localhost", "\"localhost\" has no port"),
        (":8090", "\":8090\" has no host"),
    ])
    func aMalformedHTTPAddressIsRefusedInWordsAndNothingIsCreated(address: String, reason: String) throws {
        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data")
        let serve = try ChildProcess.run(["serve", "--http", address, "--data-dir", dataDir.string], timeout: .seconds(30))
        #expect(serve.status == ExitStatus.usage)
        #expect(serve.firstLine == "Error: The value '\(address)' is invalid for '--http <HOST:PORT>': --http takes HOST:PORT and \(reason); e.g. --http 127.0.0.1:8090, or 0.0.0.0:8090 for every interface", "\(serve.standardError)")
        #expect(serve.errorLines.contains { $0.hasPrefix("Usage: burg serve") }, "the usage shown is serve's, not burg's: \(serve.standardError)")
        #expect(!FileManager.default.fileExists(atPath: dataDir.string), "nothing is created for a refused command line")
    }

    @Test func aTakenPortExits75AndCreatesNoDataDirectory() throws {
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

    @Test func anInvalidOptionIsRefusedBeforeTheDataDirectoryIsCreated() throws {
        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data")
        let serve = try ChildProcess.run(["serve", "--http", "127.0.0.1:0", "--bcrypt-cost", "2", "--data-dir", dataDir.string], timeout: .seconds(30))
        #expect(serve.status == ExitStatus.usage)
        #expect(serve.firstLine == "Error: --bcrypt-cost must be from 4 to 31, not 2", "\(serve.standardError)")
        #expect(!FileManager.default.fileExists(atPath: dataDir.string))
    }
}
