import BurgCore
import BurgRecords
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// A size-limited tmpfs in a private mount namespace: nothing outside the namespace sees the mount.
/// `burg` runs inside through ``launcher``; the test fills and frees the disk through
/// `/proc/<holder>/root`, the namespace's view of the file system.
final class SmallDisk: Sendable {
    let dir: TemporaryDirectory
    let holder: ChildProcess
    /// The mount point, as processes inside the namespace see it (outside it is an empty directory).
    let mount: String

    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") && FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter")
    }

    init(megabytes: Int) throws {
        dir = try TemporaryDirectory()
        mount = dir.path("disk").string
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        holder = try ChildProcess("/usr/bin/unshare", [
            "--user", "--map-root-user", "--mount", "sh", "-c",
            #"mount -t tmpfs -o size=\#(megabytes)m tmpfs "$1" && echo mounted && exec sleep 3600"#, "sh", mount,
        ])
        try holder.waitForLine("mounted")
    }

    deinit {
        holder.signal(SIGKILL)
        _ = try? holder.wait()
    }

    /// Runs a command inside the namespace.
    var launcher: [String] {
        ["/usr/bin/nsenter", "--target", "\(holder.pid)", "--user", "--mount", "--preserve-credentials", "--"]
    }

    /// `path` (inside the namespace) as this process reaches it.
    func reach(_ path: String) -> String { "/proc/\(holder.pid)/root" + path }

    /// Fills the disk with a ballast file until only `leaving` bytes (about) are free.
    func fill(leaving: Int = 0) throws {
        let fd = open(reach(mount + "/ballast-\(UUID().uuidString)"), O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TestFailure("cannot create ballast: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0xAB, count: 64 << 10)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        if leaving > 0 {
            var status = stat()
            fstat(fd, &status)
            _ = ftruncate(fd, max(0, off_t(status.st_size) - off_t(leaving)))
        }
    }

    /// Frees what ``fill(leaving:)`` took.
    func free() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: reach(mount)) where name.hasPrefix("ballast-") {
            unlink(reach(mount + "/" + name))
        }
    }

    /// `burg` inside the namespace, to the end.
    func burg(_ arguments: [String]) throws -> (status: Int32, lines: [String], standardError: String) {
        let child = try ChildProcess(FilePath(launcher[0]), Array(launcher.dropFirst()) + [BuiltProducts.burg.string] + arguments)
        let status = try child.wait(timeout: .seconds(120))
        return (status, child.lines, child.standardError)
    }

    /// Runs a shell command inside the namespace (mounts); throws if it fails.
    func shell(_ script: String) throws {
        let child = try ChildProcess(FilePath(launcher[0]), Array(launcher.dropFirst()) + ["sh", "-c", script])
        guard try child.wait() == 0 else { throw TestFailure("\(script): \(child.standardError)") }
    }

    /// Files under `path` (inside the namespace), relative to it.
    func files(under path: String) -> [String] {
        (FileManager.default.enumerator(atPath: reach(path))?.allObjects as? [String]) ?? []
    }
}

/// The disk under a running server fills up or turns read-only: every write is refused in words
/// (HTTP 507 or 503, exit 74), nothing half-written stays behind, reads go on, and writes work again once
/// the disk has room or is writable again.
@Suite(.enabled(if: SmallDisk.available)) struct StorageFaultTests {
    static let notes: JSONValue = .object([
        "name": "notes", "listRule": "", "viewRule": "", "createRule": "",
        "fields": .array([
            .object(["name": "title", "type": "text"]),
            .object(["name": "doc", "type": "file", "maxSelect": 1, "maxSize": .number(Double(16 << 20))]),
        ]),
    ])

    /// Creates a record with a file of `megabytes` MB through a multipart request.
    static func upload(_ megabytes: Int, to server: LiveServer) async throws -> (status: Int, body: Data, headers: [String: String]) {
        let body = upload(megabytes)
        return try await server.raw("POST", "/api/collections/notes/records", body: body.closed, contentType: body.contentType)
    }

    static func upload(_ megabytes: Int) -> MultipartBody {
        var body = MultipartBody()
        body.add("title", "with a file")
        body.add("doc", filename: "scan.bin", [UInt8](repeating: 0x5A, count: megabytes << 20))
        return body
    }

    static func total(_ server: LiveServer) async throws -> JSONValue? {
        try await server.call("GET", "/api/collections/notes/records?perPage=1")["totalItems"]
    }

    /// No temporary or partial file anywhere in the data directory: only committed records' files.
    static func expectNoLeftovers(_ disk: SmallDisk, _ dataDir: String, storedFiles: Int, _ comment: Comment) {
        let all = disk.files(under: dataDir)
        let temporary = all.filter { $0.contains(".tmp") || $0.contains("burg-tmp") || $0.hasPrefix("uploads-tmp/") }
        #expect(temporary.isEmpty, "\(comment): \(temporary)")
        let stored = all.filter { $0.hasPrefix("storage/") && $0.hasSuffix(".bin") }
        #expect(stored.count == storedFiles, "\(comment): \(stored)")
    }

    @Test func aFullDiskRefusesEveryWriteIn507Or74KeepsServingReadsAndRecoversWhenSpaceReturns() async throws {
        // Room for the records below twice over (the change feed keeps a copy of each for realtime) and a backup.
        let disk = try SmallDisk(megabytes: 64)
        let dataDir = disk.mount + "/data"
        let server = try await LiveServer(arguments: [], launcher: disk.launcher, dataDir: dataDir)
        let admin = try await server.superuserToken()
        #expect(try await server.call("POST", "/api/collections", Self.notes, token: admin).status == 200)
        #expect(try await server.call("POST", "/api/collections/notes/records", .object(["title": "before"])).status == 200)
        #expect(try await Self.upload(2, to: server).status == 200)

        try disk.fill()
        // A record larger than what the database's files already hold must reach the disk: refused.
        let big = try await server.call("POST", "/api/collections/notes/records", .object(["title": .string(String(repeating: "n", count: 2 << 20))]))
        #expect(big.status == 507, "\(big.json)")
        #expect(big["message"]?.text?.contains("disk is full") == true, "\(big.json)")
        let file = try await Self.upload(4, to: server)
        #expect(file.status == 507, "\(String(decoding: file.body, as: UTF8.self))")
        // Reads go on, and see exactly what was committed.
        #expect(try await Self.total(server) == .number(2))
        let listed = try await server.call("GET", "/api/collections/notes/records?filter=" + "title='with a file'".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        let record = try #require(listed["items"]?.items?.first?.object)
        let stored = try #require(record["doc"]?.text)
        let download = try await server.raw("GET", "/api/files/notes/\(record["id"]!.text!)/\(stored)")
        #expect(download.status == 200 && download.body.count == 2 << 20)
        #expect(server.process.isRunning)
        Self.expectNoLeftovers(disk, dataDir, storedFiles: 1, "after the refused writes")

        // The CLI on the same full disk: a backup and an import fail with 74 and leave nothing behind.
        let backup = try disk.burg(["backup", "create", "--data-dir", dataDir])
        #expect(backup.status == ExitStatus.ioError, "\(backup.standardError)")
        #expect(disk.files(under: dataDir + "/backups").isEmpty)
        // An import that fills the disk half-way stops with 74, keeping only whole batches.
        try disk.free()
        try disk.fill(leaving: 3 << 20)
        let input = disk.dir.path("many.ndjson")
        let lines = (0..<40_000).map { #"{"title": "imported \#($0) "# + String(repeating: "i", count: 200) + #""}"# }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: input.string))
        let imported = try disk.burg(["import", "notes", input.string, "--batch-size", "1000", "--data-dir", dataDir])
        #expect(imported.status == ExitStatus.ioError, "\(imported.lines.suffix(3)) \(imported.standardError)")
        #expect(imported.standardError.contains("full"), "\(imported.standardError)")
        let afterImport = try #require(try await Self.total(server)?.numberValue)
        #expect(afterImport >= 2 && afterImport < 40_002 && (Int(afterImport) - 2) % 1000 == 0, "only whole batches: \(afterImport)")
        #expect(try await server.call("GET", "/api/health").status != 500)

        // Log rotation on the full disk: lines are dropped and counted, the writer never fails.
        let logs = dataDir + "/rotation-test"
        try disk.shell("mkdir -p '\(logs)'")
        try disk.fill()
        let helper = try ChildProcess(FilePath(disk.launcher[0]), Array(disk.launcher.dropFirst()) + [
            BuiltProducts.testHelper.string, "log-lines", logs, "--count", "2000", "--max-bytes", "4096", "--max-files", "3",
        ])
        #expect(try await helper.wait() == 0, "\(helper.standardError)")
        #expect(helper.lines.contains { $0.hasPrefix("failed ") && $0 != "failed 0" }, "\(helper.lines)")

        // Space returns: every kind of write works again, without restarting anything.
        try disk.free()
        #expect(try await server.call("POST", "/api/collections/notes/records", .object(["title": .string(String(repeating: "n", count: 2 << 20))])).status == 200)
        #expect(try await Self.upload(4, to: server).status == 200)
        let backupAfter = try disk.burg(["backup", "create", "--data-dir", dataDir])
        #expect(backupAfter.status == 0, "\(backupAfter.standardError.replacingOccurrences(of: "\n", with: " | "))")
        let rotated = try ChildProcess(FilePath(disk.launcher[0]), Array(disk.launcher.dropFirst()) + [
            BuiltProducts.testHelper.string, "log-lines", logs, "--count", "200", "--max-bytes", "4096", "--max-files", "3",
        ])
        #expect(try await rotated.wait() == 0 && rotated.lines == ["failed 0"], "\(rotated.lines)")
        let logFiles = disk.files(under: logs)
        #expect(logFiles.count <= 3, "\(logFiles)")
        for name in logFiles {
            let text = try String(contentsOfFile: disk.reach(logs + "/" + name), encoding: .utf8)
            #expect(text.isEmpty || text.hasSuffix("\n"), "\(name) ends with a whole line")
            #expect(text.split(separator: "\n").allSatisfy { $0.hasPrefix("line ") }, "\(name) holds only whole lines")
        }
        #expect(try await Self.total(server) == .number(afterImport + 2))
        Self.expectNoLeftovers(disk, dataDir, storedFiles: 2, "after recovery")
    }

    /// Linux refuses to remount a file system read-only while files on it are open for writing (EBUSY),
    /// so the database's own mount cannot turn read-only under a running server here (the kernel does
    /// that only after device errors: docs/SECURITY.md). The files' storage can, as its own mount.
    @Test func storageTurningReadOnlyWhileServingRefusesUploadsWith503AndRecoversWhenWritable() async throws {
        let disk = try SmallDisk(megabytes: 48)
        let dataDir = disk.mount + "/data"
        let server = try await LiveServer(arguments: [], launcher: disk.launcher, dataDir: dataDir)
        let admin = try await server.superuserToken()
        #expect(try await server.call("POST", "/api/collections", Self.notes, token: admin).status == 200)
        #expect(try await Self.upload(1, to: server).status == 200)

        let storage = dataDir + "/storage"
        try disk.shell("mount --bind '\(storage)' '\(storage)' && mount -o remount,bind,ro '\(storage)'")
        let refused = try await Self.upload(1, to: server)
        let refusal = try JSONValue.parse(String(decoding: refused.body, as: UTF8.self))
        #expect(refused.status == 503, "\(refusal)")
        #expect(refusal.object?["message"]?.text?.contains("read-only") == true, "\(refusal)")
        // Nothing half-done: the refused record does not exist; other writes and all reads go on.
        #expect(try await Self.total(server) == .number(1))
        #expect(try await server.call("POST", "/api/collections/notes/records", .object(["title": "no file"])).status == 200)
        #expect(try await Self.total(server) == .number(2))

        try disk.shell("mount -o remount,bind,rw '\(storage)'")
        #expect(try await Self.upload(1, to: server).status == 200)
        #expect(try await Self.total(server) == .number(3))
        Self.expectNoLeftovers(disk, dataDir, storedFiles: 2, "after recovery")
    }
}
