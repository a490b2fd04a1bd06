import BurgCore
import BurgRecords
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// `GET /api/health` is public, so probes must not be able to load the store: the full check runs at
/// most once per interval and concurrent probes share it. It reports the store, the disk, the job queue
/// with its workers, and the backups; its status is the worst of them.
@Suite struct HealthAPITests {
    @Test func probesShareOneCachedFullCheckAndReportItsVerdict() async throws {
        try await InProcessServer.run { server in
            let first = try await server.call("GET", "/api/health")
            #expect(first.status == 200)
            let data = try #require(first["data"]?.object)
            let checks = try #require(data["checks"]?.object)
            #expect(checks["store"]?.object?["status"] == .string("healthy"))
            #expect(checks["jobs"]?.object?["status"] == .string("healthy"))
            // A fresh install has no backup yet: still served (200), but not healthy.
            #expect(checks["backups"]?.object?["status"] == .string("degraded"))
            #expect(checks["backups"]?.object?["problem"]?.jsonText.contains("no verified backup") == true)
            #expect(data["status"] == .string("degraded"))
            let checkedAt = try #require(data["checkedAt"])

            // A burst of probes: all answered, all from the same full check.
            let stamps = try await withThrowingTaskGroup(of: JSONValue?.self) { group in
                for _ in 0..<40 {
                    group.addTask { try await server.call("GET", "/api/health")["data"]?.object?["checkedAt"] }
                }
                return try await group.reduce(into: [JSONValue?]()) { $0.append($1) }
            }
            #expect(stamps.count == 40 && stamps.allSatisfy { $0 == checkedAt }, "\(Set(stamps.compactMap { $0?.jsonText }))")
        }
    }

    @Test func headIsAnsweredWithGetsStatusAndHeadersAndNoBody() async throws {
        try await InProcessServer.run { server in
            let head = try await server.raw("HEAD", "/api/health")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.headers["content-type"]?.hasPrefix("application/json") == true, "\(head.headers)")
        }
    }

    @Test func aVerifiedBackupAndRunningWorkersMakeItHealthy() async throws {
        let server = try await LiveServer("--health-interval", "0.2", "--workers", "1")
        let backup = try ChildProcess.burg("backup", "create", "--data-dir", server.dataDir)
        #expect(try await backup.wait() == 0, "\(backup.standardError)")
        var data: [String: JSONValue] = [:]
        let deadline = ContinuousClock.now + .seconds(20)
        repeat {
            try await Task.sleep(for: .milliseconds(250))
            data = try await server.call("GET", "/api/health")["data"]?.object ?? [:]
        } while data["status"] != .string("healthy") && ContinuousClock.now < deadline
        let checks = data["checks"]?.object ?? [:]
        #expect(data["status"] == .string("healthy"), "\(data)")
        #expect(checks["backups"]?.object?["lastVerified"]?.jsonText.contains("20") == true)
        #expect(checks["jobs"]?.object?["workersWanted"] == .number(1))
        #expect(checks["jobs"]?.object?["workersAlive"] == .number(1))
    }

    /// The backups check is built from the archives on disk, so restoring an older state (whose history
    /// predates the newer archives) keeps it healthy; `--restart` brings the server back on its address.
    @Test func afterRestoreWithRestartTheServerIsBackAndTheBackupsCheckStillSeesVerifiedArchives() async throws {
        let server = try await LiveServer("--health-interval", "0")
        for _ in 0..<2 {
            let backup = try await ChildProcess.run(["backup", "create", "--data-dir", server.dataDir])
            #expect(backup.status == 0, "\(backup.standardError)")
        }
        let backups = server.dir.path("data/backups")
        let oldest = try #require(try FileManager.default.contentsOfDirectory(atPath: backups.string).filter { $0.hasSuffix(".zip") }.sorted().first)
        let restore = try await ChildProcess.run(["backup", "restore", backups.appending(oldest).string, "--restart", "--data-dir", server.dataDir])
        #expect(restore.status == 0, "\(restore.standardError)")
        let line = try #require(restore.lines.last)
        #expect(line.hasPrefix("burg serve was stopped for the restore and is running again (pid "), "\(restore.lines)")
        let pid = try #require(Int32(line.split(separator: "(pid ")[1].prefix { $0.isNumber }))
        defer { kill(pid, SIGTERM) }
        #expect(try await server.process.wait(timeout: .seconds(30)) == 0, "the first server stopped gracefully")
        var backupsCheck: [String: JSONValue] = [:]
        let deadline = ContinuousClock.now + .seconds(20)
        repeat {
            try await Task.sleep(for: .milliseconds(200))
            let reply = try? await server.call("GET", "/api/health")
            backupsCheck = reply?["data"]?.object?["checks"]?.object?["backups"]?.object ?? [:]
        } while backupsCheck.isEmpty && ContinuousClock.now < deadline
        #expect(backupsCheck["status"] == .string("healthy"), "\(backupsCheck)")
        #expect(backupsCheck["problem"] == nil || backupsCheck["problem"] == .null, "\(backupsCheck)")
        #expect(InstanceLock.currentHolder(dataDir: FilePath(server.dataDir))?.pid == pid)
    }
}
