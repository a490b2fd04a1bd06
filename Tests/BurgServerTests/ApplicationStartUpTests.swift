import BurgAuth
import BurgCore
import BurgServer
import BurgStore
import BurgTestSupport
import Foundation
import HummingbirdTesting
import Logging
import Testing
@testable import burg

/// What the application does when it starts rather than when it is built.
@Suite struct ApplicationStartUpTests {
    /// Spooled uploads a killed server left in `uploads-tmp` are removed when the server starts, before its
    /// first request, and building the application alone removes nothing.
    @Test func uploadsAKilledServerLeftSpooledAreRemovedAtStartUpNotWhenTheApplicationIsBuilt() async throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("data")
        try DataDirectory.prepare(data)
        let store = try Store(StoreConfiguration(dataDirectory: data), migrations: BurgSchema.migrations)
        let authenticator = try await Authenticator(store: store, dataDirectory: data, logger: Logger(label: "burg.auth"))
        let spool = data.appending("uploads-tmp")
        try FileManager.default.createDirectory(atPath: spool.string, withIntermediateDirectories: false)
        let leftover = spool.appending("upload-leftover").string
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data("half an upload".utf8)))
        let application = buildApplication(store: store, authenticator: authenticator, configuration: ServerConfiguration(),
                                           logger: Logger(label: "burg.http"))
        #expect(FileManager.default.fileExists(atPath: leftover), "building the application has no side effects")
        try await application.test(.router) { client in
            #expect(!FileManager.default.fileExists(atPath: leftover), "removed before the first request")
            let health = try await client.executeRequest(uri: "/api/health", method: .get, headers: [:], body: nil)
            #expect(health.status == .ok)
        }
    }
}
