import BurgServer
import BurgTestSupport
import Foundation
import Testing

/// A web app served from another origin (a Vite dev server, a static host) calls Burg from the browser:
/// preflights and responses carry the CORS headers PocketBase 0.40 sends, for any origin by default and
/// for a configured list with `--origins`.
@Suite struct CrossOriginTests {
    static let app = "http://localhost:5173"

    /// A request with exactly the header lines `extra` ("Name: value"), as a browser sends them; the
    /// status and the answer's fields, lowercased names.
    static func send(_ server: InProcessServer, _ method: String, _ path: String, _ extra: [String]) async throws -> (Int, [String: String]) {
        var fields: [String: String] = [:]
        for line in extra {
            let colon = try #require(line.firstIndex(of: ":"))
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let answer = try await server.send(method, path, headers: fields)
        return (answer.status, answer.headers)
    }

    @Test func anyOriginIsAllowedByDefaultAsInPocketBase() async throws {
        try await InProcessServer.run { server in
            let vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
            // A preflight, also on a path with no route, echoes the headers the browser asks for.
            for path in ["/api/collections/users/records", "/api/nosuch"] {
                let (status, headers) = try await Self.send(server, "OPTIONS", path, [
                    "Origin: \(Self.app)", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: content-type,authorization,x-custom-header",
                ])
                #expect(status == 204, "\(path)")
                #expect(headers["access-control-allow-origin"] == "*")
                #expect(headers["access-control-allow-methods"] == "GET,HEAD,PUT,PATCH,POST,DELETE")
                #expect(headers["access-control-allow-headers"] == "content-type,authorization,x-custom-header")
                #expect(headers["vary"] == vary)
                #expect(headers["access-control-allow-credentials"] == nil && headers["access-control-max-age"] == nil)
            }
            let (bare, bareHeaders) = try await Self.send(server, "OPTIONS", "/api/health", [])
            #expect(bare == 204 && bareHeaders["vary"] == "Origin" && bareHeaders["access-control-allow-origin"] == nil)
            // Answers, errors included, carry the origin so the page may read them.
            let (ok, okHeaders) = try await Self.send(server, "GET", "/api/health", ["Origin: \(Self.app)"])
            #expect(ok == 200 && okHeaders["access-control-allow-origin"] == "*" && okHeaders["vary"] == "Origin")
            let (missing, missingHeaders) = try await Self.send(server, "GET", "/api/collections/nope/records", ["Origin: \(Self.app)"])
            #expect(missing == 404 && missingHeaders["access-control-allow-origin"] == "*")
            let (plain, plainHeaders) = try await Self.send(server, "GET", "/api/health", [])
            #expect(plain == 200 && plainHeaders["access-control-allow-origin"] == nil && plainHeaders["vary"] == "Origin")
        }
    }

    @Test func aListOfOriginsEchoesTheOnesInItAndGivesOthersNothing() async throws {
        var configuration = ServerConfiguration()
        configuration.allowedOrigins = try #require(AllowedOrigins(list: "\(Self.app),https://app.example.com"))
        try await InProcessServer.run(configuration: configuration) { server in
            for origin in [Self.app, "https://app.example.com"] {
                let (status, headers) = try await Self.send(server, "OPTIONS", "/api/health", [
                    "Origin: \(origin)", "Access-Control-Request-Method: PATCH", "Access-Control-Request-Headers: content-type",
                ])
                #expect(status == 204 && headers["access-control-allow-origin"] == origin && headers["access-control-allow-headers"] == "content-type")
                let (ok, okHeaders) = try await Self.send(server, "GET", "/api/health", ["Origin: \(origin)"])
                #expect(ok == 200 && okHeaders["access-control-allow-origin"] == origin)
            }
            let (status, headers) = try await Self.send(server, "OPTIONS", "/api/health", [
                "Origin: http://evil.example", "Access-Control-Request-Method: PATCH",
            ])
            #expect(status == 204 && headers["access-control-allow-origin"] == nil && headers["access-control-allow-methods"] == nil)
            #expect(headers["vary"] == "Origin")
            let (ok, okHeaders) = try await Self.send(server, "GET", "/api/health", ["Origin: http://evil.example"])
            #expect(ok == 200 && okHeaders["access-control-allow-origin"] == nil)
        }
    }

    @Test(arguments: ["", "localhost:5173", "http://app.example.com/path", "https://*.example.com", "ftp://files.example.com"])
    func aMalformedOriginListIsRefusedBeforeAnythingStarts(list: String) async throws {
        try await offThePool {
        let dir = try TemporaryDirectory()
        let serve = try ChildProcess.run(["serve", "--origins", list, "--http", "127.0.0.1:0", "--data-dir", dir.path("data").string])
        #expect(serve.status == 64, "\(serve.standardError)")
        #expect(serve.standardError.contains("--origins takes"), "\(serve.standardError)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("data").string))
        }
    }
}
