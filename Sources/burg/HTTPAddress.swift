import ArgumentParser

/// `--http HOST:PORT`, checked while the command line is parsed, before anything is created on disk.
/// The host is a name or address (`[::1]` for IPv6); the port is 1…65535, or 0 for any free port.
struct HTTPAddress: ExpressibleByArgument, Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(argument: String) {
        guard let address = try? Self.parse(argument) else { return nil }
        self = address
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    var defaultValueDescription: String { description }

    /// Parses `HOST:PORT`; the error says what is wrong with `text` and gives an example.
    static func parse(_ text: String) throws -> HTTPAddress {
        let example = "e.g. --http 127.0.0.1:8090, or 0.0.0.0:8090 for every interface"
        guard let colon = text.lastIndex(of: ":") else {
            throw ValidationError("--http takes HOST:PORT and \"\(text)\" has no port; \(example)")
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--http takes HOST:PORT and \"\(text)\" has no host; \(example)") }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), let port = Int(portText) else {
            throw ValidationError("--http takes HOST:PORT and \"\(portText)\" is not a port number; \(example)")
        }
        guard (0...65535).contains(port) else {
            throw ValidationError("--http takes HOST:PORT and \(port) is not a port (1…65535); \(example)")
        }
        return HTTPAddress(host: host, port: port)
    }
}
