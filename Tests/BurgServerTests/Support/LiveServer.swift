import BurgCore
import BurgRecords
import BurgTestSupport
import Foundation
import SystemPackage
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `burg serve` on a loopback port of a temporary data directory, with a superuser, and a small
/// HTTP client for it. For tests where the process itself matters (signals, other processes, its log);
/// the rest use ``InProcessServer``.
final class LiveServer: TestServer {
    let dir: TemporaryDirectory
    let process: ChildProcess
    let port: Int
    let dataDir: String
    static let superuser = ("admin@example.org", "correct horse battery")

    convenience init(_ extra: String...) async throws {
        try await self.init(arguments: extra)
    }

    /// `launcher` runs each `burg` inside something (e.g. `nsenter` into a mount namespace with a small
    /// disk); `dataDir` is then a path as seen there.
    init(arguments extra: [String], launcher: [String] = [], dataDir: String? = nil) async throws {
        dir = try TemporaryDirectory()
        let data = dataDir ?? dir.path("data").string
        self.dataDir = data
        func burg(_ arguments: [String]) throws -> ChildProcess {
            guard let first = launcher.first else { return try ChildProcess(BuiltProducts.burg, arguments) }
            return try ChildProcess(FilePath(first), Array(launcher.dropFirst()) + [BuiltProducts.burg.string] + arguments)
        }
        let upsert = try burg(["superuser", "upsert", Self.superuser.0, Self.superuser.1, "--bcrypt-cost", "4", "--data-dir", data])
        guard try await upsert.wait() == 0 else { throw TestFailure("superuser upsert failed: \(upsert.standardError)") }
        var started: (ChildProcess, Int)?
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...60_000)
            let process = try burg(["serve", "--http", "127.0.0.1:\(port)", "--data-dir", data] + extra)
            if try await Self.waitUntilHealthy(port: port, process: process) { started = (process, port); break }
            process.signal(SIGKILL)
            _ = try? await process.wait()
        }
        guard let started else { throw TestFailure("burg serve did not start") }
        (process, port) = started
    }

    deinit {
        process.signal(SIGTERM)
        _ = try? process.wait(timeout: .seconds(10))
    }

    static func waitUntilHealthy(port: Int, process: ChildProcess) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, process.isRunning {
            if let (status, _, _) = try? await send("GET", URL(string: "http://127.0.0.1:\(port)/api/health")!, body: nil, token: nil), status == 200 {
                return true
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func exchange(_ method: String, _ path: String, body: Data?, contentType: String?, token: String?) async throws
        -> (status: Int, body: Data, headers: [String: String])
    {
        try await Self.send(method, URL(string: "http://127.0.0.1:\(port)\(path)")!, body: body, token: token, contentType: contentType)
    }

    static func send(_ method: String, _ url: URL, body: Data?, token: String?, contentType: String? = nil,
                     headers extra: [String: String] = [:]) async throws -> (Int, Data, [String: String]) {
        var request = URLRequest(url: url)
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue(contentType ?? "application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue(token, forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)".lowercased()] = "\(value)" }
        return (http.statusCode, data, headers)
    }
}

/// A `multipart/form-data` body: text values and files, in order.
struct MultipartBody {
    let boundary = "burgtest" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    var data = Data()
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func add(_ name: String, _ value: String) {
        data += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    mutating func add(_ name: String, filename: String, _ bytes: [UInt8], type: String = "application/octet-stream") {
        data += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
        data += Data(bytes) + Data("\r\n".utf8)
    }

    /// The body with its closing boundary.
    var closed: Data { data + Data("--\(boundary)--\r\n".utf8) }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension JSONValue {
    /// A collection whose records belong to the user in their `owner` relation: only that user may
    /// list, view, create (as themself), update and delete them. `fields` come after `owner`.
    static func ownedCollection(_ name: String, fields: [JSONValue]) -> JSONValue {
        let own = JSONValue.string("owner = @request.auth.id")
        return .object([
            "name": .string(name), "listRule": own, "viewRule": own, "updateRule": own, "deleteRule": own,
            "createRule": "@request.auth.id != '' && owner = @request.auth.id",
            "fields": .array([.object(["name": "owner", "type": "relation", "collection": "users", "required": true])] + fields),
        ])
    }

    /// The members of an object (nil for any other value).
    var object: [String: JSONValue]? { if case .object(let object) = self { object } else { nil } }
    /// The text of a string (nil for any other value).
    var text: String? { if case .string(let text) = self { text } else { nil } }
    /// The items of an array (nil for any other value).
    var items: [JSONValue]? { if case .array(let items) = self { items } else { nil } }
    /// The value of a number (nil for any other value).
    var numberValue: Double? { if case .number(let number) = self { number } else { nil } }
}
