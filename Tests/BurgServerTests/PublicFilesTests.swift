import BurgCore
import BurgServer
import BurgTestSupport
import Foundation
import Testing

/// A web app served by Burg from its public directory, as PocketBase serves `pb_public`: files with
/// their types and validators, a single-page app's own routes answered with its index, the API first,
/// and nothing outside the directory.
@Suite struct PublicFilesTests {
    static func makeSite(in dir: TemporaryDirectory) throws -> String {
        let site = dir.path("site").string
        try FileManager.default.createDirectory(atPath: site + "/assets", withIntermediateDirectories: true)
        try Data("<!doctype html><title>app</title>".utf8).write(to: URL(fileURLWithPath: site + "/index.html"))
        try Data("body { color: red }".utf8).write(to: URL(fileURLWithPath: site + "/assets/app.css"))
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: site + "/digits.txt"))
        // A secret beside the site, which no path may reach.
        try Data("secret".utf8).write(to: URL(fileURLWithPath: dir.path("secret.txt").string))
        return site
    }

    @Test func filesAreServedWithTypesValidatorsAndRangesAndTheAppsRoutesGetItsIndex() async throws {
        let scratch = try TemporaryDirectory()
        let site = try Self.makeSite(in: scratch)
        // A real `burg serve`: conditional and range requests and paths are written on the socket as they
        // are (in process, on a loaded machine, these raw exchanges timed out while other tests held the
        // cooperative pool).
        let server = try await LiveServer("--public-dir", site)
        do {
            let index = try await server.raw("GET", "/")
            #expect(index.status == 200 && String(decoding: index.body, as: UTF8.self).contains("<title>app</title>"))
            #expect(index.headers["content-type"]?.hasPrefix("text/html") == true)
            let css = try await server.raw("GET", "/assets/app.css")
            #expect(css.status == 200 && css.headers["content-type"]?.hasPrefix("text/css") == true)
            let etag = try #require(css.headers["etag"])
            let revalidated = try await RawHTTP.send(port: server.port, RawHTTP.request(
                ["GET /assets/app.css HTTP/1.1", "Host: 127.0.0.1", "If-None-Match: \(etag)", "Connection: close"]), halfClose: false)
            #expect(revalidated.status == 304)
            let ranged = try await RawHTTP.send(port: server.port, RawHTTP.request(
                ["GET /digits.txt HTTP/1.1", "Host: 127.0.0.1", "Range: bytes=2-4", "Connection: close"]), halfClose: false)
            #expect(ranged.status == 206 && ranged.text.hasSuffix("234"), "\(ranged.text)")

            // A single-page app's own route gets its index; the API keeps its answers and its JSON 404s.
            let spa = try await server.raw("GET", "/patients/42")
            #expect(spa.status == 200 && String(decoding: spa.body, as: UTF8.self).contains("<title>app</title>"))
            #expect(try await server.call("GET", "/api/health").status == 200)
            let unknown = try await server.call("GET", "/api/nosuch")
            #expect(unknown.status == 404 && unknown["status"] == .number(404))
            // A directory is never listed: /assets/ answers with the index (there is no assets/index.html).
            let folder = try await server.raw("GET", "/assets/")
            #expect(folder.status == 200 && !String(decoding: folder.body, as: UTF8.self).contains("app.css"))

            // Nothing outside the directory, however the path is written.
            for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt", "/..%5csecret.txt"] {
                let answer = try await RawHTTP.send(port: server.port, RawHTTP.request(["GET \(path) HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]), halfClose: false)
                #expect(!answer.text.contains("secret"), "\(path): \(answer.statusLine)")
                #expect(answer.status == 400 || answer.status == 404 || answer.status == 200, "\(path): \(answer.statusLine)")
            }
            // Writes never reach the files.
            #expect(try await server.raw("POST", "/assets/app.css", body: Data("x".utf8), contentType: "text/css").status == 404)
        }
    }

    @Test func withoutIndexFallbackAMissingPathIsA404AndAMissingDirectoryIsRefused() async throws {
        let scratch = try TemporaryDirectory()
        let site = try Self.makeSite(in: scratch)
        var configuration = ServerConfiguration()
        configuration.publicDirectory = site
        configuration.indexFallback = false
        try await InProcessServer.run(configuration: configuration) { server in
            #expect(try await server.raw("GET", "/digits.txt").status == 200)
            let missing = try await server.call("GET", "/patients/42")
            #expect(missing.status == 404 && missing["status"] == .number(404))

            let dir = try TemporaryDirectory()
            let refused = try await ChildProcess.run(["serve", "--public-dir", dir.path("nope").string, "--http", "127.0.0.1:0", "--data-dir", dir.path("data").string])
            #expect(refused.status == ExitStatus.noInput, "\(refused.standardError)")
            #expect(refused.standardError.contains("is not a directory"))
            #expect(!FileManager.default.fileExists(atPath: dir.path("data").string))
        }
    }
}
