import BurgBackup
import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// A data directory made with the real `burg` (so the CLI's schema applies): a `notes` collection of
/// `rows` records and `fileMegabytes` of record files.
func makeDataDirectory(rows: Int, fileMegabytes: Int) throws -> (TemporaryDirectory, FilePath) {
    let dir = try TemporaryDirectory()
    let dataDir = dir.path("data")
    let definition = dir.path("notes.json")
    try Data(#"{"name": "notes", "fields": [{"name": "title", "type": "text"}, {"name": "body", "type": "text"}]}"#.utf8)
        .write(to: URL(fileURLWithPath: definition.string))
    let create = try ChildProcess(BuiltProducts.burg, ["collections", "create", definition.string, "--data-dir", dataDir.string])
    try #require(try create.wait() == 0, "\(create.standardError)")
    let lines = (0..<rows).map { #"{"title": "note \#($0)", "body": "\#(String(repeating: "lorem ipsum ", count: 20))"}"# }
    let ndjson = dir.path("notes.ndjson")
    try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: ndjson.string))
    let load = try ChildProcess(BuiltProducts.burg, ["import", "notes", ndjson.string, "--data-dir", dataDir.string])
    try #require(try load.wait() == 0, "\(load.standardError)")
    let storage = dataDir.appending("storage/pbc_notes/r1")
    try FileManager.default.createDirectory(atPath: storage.string, withIntermediateDirectories: true)
    var generator = SystemRandomNumberGenerator()
    for index in 0..<fileMegabytes {
        let bytes = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: storage.appending("file\(index)_abcdefghij.bin").string))
    }
    return (dir, dataDir)
}

@Suite struct BackupCLITests {
    @Test func killNineDuringBackupCreateLeavesNoPartialArchiveAndTheNextBackupCleansUp() throws {
        let rounds = ProcessInfo.processInfo.environment["BURG_SOAK"] == "1" ? 20 : 5
        let (dir, dataDir) = try makeDataDirectory(rows: 5_000, fileMegabytes: 24)
        defer { withExtendedLifetime(dir) {} }
        let backups = dataDir.appending("backups")
        var interrupted = 0
        for round in 0..<rounds {
            let before = BackupCatalog.archives(in: backups).count
            let child = try ChildProcess(BuiltProducts.burg, ["backup", "create", "--data-dir", dataDir.string])
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.6))
            child.signal(SIGKILL)
            _ = try child.wait()
            if BackupCatalog.archives(in: backups).count == before { interrupted += 1 }
            // Whatever is under a final name is a whole, verified archive.
            for archive in BackupCatalog.archives(in: backups) {
                let verify = try ChildProcess(BuiltProducts.burg, ["backup", "verify", backups.appending(archive.name).string, "--data-dir", dataDir.string])
                #expect(try verify.wait() == 0, "round \(round): \(archive.name) \(verify.standardError)")
            }
        }
        #expect(interrupted > 0, "no kill landed while a backup was being made")
        let final = try ChildProcess(BuiltProducts.burg, ["backup", "create", "--data-dir", dataDir.string, "--json"])
        #expect(try final.wait() == 0, "\(final.standardError)")
        #expect(final.lines.joined().contains("\"verified\" : true"))
        let left = try FileManager.default.contentsOfDirectory(atPath: backups.string).filter { $0.contains(AtomicFile.temporaryMarker) }
        #expect(left.isEmpty, "leftovers: \(left)")
        let list = try ChildProcess(BuiltProducts.burg, ["backup", "list", "--data-dir", dataDir.string])
        #expect(try list.wait() == 0)
        #expect(list.lines.contains { $0.contains("verified") })
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")))
    func aFullDiskFailsTheBackupWithAnIOErrorAndLeavesTheLiveDataUntouched() throws {
        let (dir, dataDir) = try makeDataDirectory(rows: 2_000, fileMegabytes: 4)
        defer { withExtendedLifetime(dir) {} }
        let backups = dataDir.appending("backups")
        try FileManager.default.createDirectory(atPath: backups.string, withIntermediateDirectories: true)
        // The backups directory becomes a 2 MB tmpfs inside a private mount namespace.
        let script = #"mount -t tmpfs -o size=2m tmpfs "$1/backups" && exec "$2" backup create --data-dir "$1""#
        let child = try ChildProcess("/usr/bin/unshare",
            ["--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", dataDir.string, BuiltProducts.burg.string])
        let status = try child.wait()
        #expect(status == ExitStatus.ioError, "\(child.standardError)")
        #expect(child.standardError.contains("backup"))
        let records = try ChildProcess(BuiltProducts.burg, ["records", "list", "notes", "--per-page", "1", "--json", "--data-dir", dataDir.string])
        #expect(try records.wait() == 0)
        #expect(records.lines.joined().contains("2000"))
        let health = try ChildProcess(BuiltProducts.burg, ["db", "health", "--data-dir", dataDir.string])
        #expect(try health.wait() == 0, "\(health.lines)")
        // Nothing was left behind in the real backups directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: backups.string).isEmpty)
    }

    @Test func encryptedBackupThroughTheCLIRestoresWithItsKeyAndWrongKeysExitWith77() throws {
        let (dir, dataDir) = try makeDataDirectory(rows: 300, fileMegabytes: 1)
        let key = dir.path("offsite.key")
        let create = try ChildProcess(BuiltProducts.burg, ["backup", "create", "--encrypt", "--key-file", key.string, "--data-dir", dataDir.string])
        #expect(try create.wait() == 0, "\(create.standardError)")
        #expect(create.standardError.contains("copy it somewhere safe"))
        let archive = try #require(BackupCatalog.archives(in: dataDir.appending("backups")).first)
        let path = dataDir.appending("backups").appending(archive.name).string
        let other = dir.path("other.key")
        _ = try BackupKey.createKeyFile(at: other)
        let wrong = try ChildProcess(BuiltProducts.burg, ["backup", "verify", path, "--key-file", other.string, "--data-dir", dataDir.string])
        #expect(try wrong.wait() == ExitStatus.noPermission)
        let restore = try ChildProcess(BuiltProducts.burg, ["backup", "restore", path, "--key-file", key.string, "--data-dir", dataDir.string])
        #expect(try restore.wait() == 0, "\(restore.standardError)")
        let records = try ChildProcess(BuiltProducts.burg, ["records", "list", "notes", "--per-page", "1", "--json", "--data-dir", dataDir.string])
        #expect(try records.wait() == 0)
        #expect(records.lines.joined().contains("300"))
    }
}

/// `burg backup list`, health and `restore --stop-server` after a restore: the archives on disk stay
/// verified, and a stopped server is said to be stopped, with the command that starts it again.
@Suite struct BackupRestoreCLITests {
    @Test func afterARestoreBackupListShowsEveryArchiveOnDiskAsVerified() throws {
        let (dir, dataDir) = try makeDataDirectory(rows: 200, fileMegabytes: 1)
        defer { withExtendedLifetime(dir) {} }
        let backups = dataDir.appending("backups")
        for _ in 0..<3 {
            let create = try ChildProcess.run(["backup", "create", "--data-dir", dataDir.string])
            #expect(create.status == 0, "\(create.standardError)")
            #expect(create.firstLine.hasPrefix("created \(backups.string)/burg-"), "\(create.lines)")
            #expect(create.firstLine.contains("200 records, 1 file), verified in "), "\(create.lines)")
            // Progress ends at 100 % without a terminal; no log line and no bare step name on either stream.
            #expect(create.errorLines.last?.contains("100%") == true, "\(create.standardError)")
            #expect(!create.standardError.contains("backup  snapshot") && !create.lines.joined().contains("burg.backup"))
        }
        let archives = BackupCatalog.archives(in: backups)
        #expect(archives.count == 3)
        let oldest = backups.appending(archives.last!.name).string

        let restore = try ChildProcess.run(["backup", "restore", oldest, "--data-dir", dataDir.string])
        #expect(restore.status == 0, "\(restore.standardError)")
        #expect(restore.firstLine.hasPrefix("restored \(oldest) (200 records, made "), "\(restore.lines)")
        #expect(restore.errorLines.last?.contains("100%") == true, "\(restore.standardError)")

        let list = try ChildProcess.run(["backup", "list", "--data-dir", dataDir.string])
        #expect(list.status == 0, "\(list.standardError)")
        #expect(list.firstLine == "3 archives in \(backups.string), 3 verified", "\(list.lines)")
        #expect(Set(list.lines.dropFirst().map { String($0.split(separator: "\t")[0]) }) == Set(archives.map(\.name)))
        #expect(list.lines.dropFirst().allSatisfy { $0.hasSuffix("\tverified") }, "\(list.lines)")

        // An archive copied in from elsewhere is verified against its manifest by `list` and recorded.
        let copy = backups.appending("burg-20200101-000000-000.zip")
        try FileManager.default.copyItem(atPath: oldest, toPath: copy.string)
        let again = try ChildProcess.run(["backup", "list", "--data-dir", dataDir.string, "--json"])
        #expect(again.status == 0, "\(again.standardError)")
        let listed = try JSONDecoder().decode([BackupArchive].self, from: Data(again.lines.joined(separator: "\n").utf8))
        #expect(listed.count == 4 && listed.allSatisfy { $0.status == .verified }, "\(listed)")
        #expect(listed.last?.file == copy.lastComponent?.string)

        // An archive deleted by hand is no longer listed.
        try FileManager.default.removeItem(atPath: copy.string)
        let after = try ChildProcess.run(["backup", "list", "--data-dir", dataDir.string])
        #expect(after.firstLine == "3 archives in \(backups.string), 3 verified", "\(after.lines)")
    }

    @Test func restoreWithStopServerSaysTheServerWasStoppedAndHowToStartItAgain() throws {
        let (dir, dataDir) = try makeDataDirectory(rows: 50, fileMegabytes: 0)
        defer { withExtendedLifetime(dir) {} }
        let create = try ChildProcess.run(["backup", "create", "--data-dir", dataDir.string])
        #expect(create.status == 0, "\(create.standardError)")
        let archive = dataDir.appending("backups").appending(try #require(BackupCatalog.archives(in: dataDir.appending("backups")).first).name)
        let server = try ChildProcess(BuiltProducts.burg, ["serve", "--http", "127.0.0.1:0", "--data-dir", dataDir.string])
        defer { server.signal(SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(30)
        while InstanceLock.currentHolder(dataDir: dataDir) == nil && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(InstanceLock.currentHolder(dataDir: dataDir)?.pid == server.pid)

        // Without --stop-server: refused in words, exit 75, nothing changed.
        let refused = try ChildProcess.run(["backup", "restore", archive.string, "--data-dir", dataDir.string])
        #expect(refused.status == ExitStatus.tempFail)
        #expect(refused.firstLine.hasPrefix("burg: backup \(dataDir.string): Burg is running on it (pid \(server.pid)"), "\(refused.standardError)")
        #expect(server.isRunning)

        let restore = try ChildProcess.run(["backup", "restore", archive.string, "--stop-server", "--data-dir", dataDir.string])
        #expect(restore.status == 0, "\(restore.standardError)")
        #expect(restore.firstLine.hasPrefix("restored \(archive.string) (50 records, made "), "\(restore.lines)")
        let expected = "burg serve (pid \(server.pid)) was stopped for the restore and is not running; start it again with: cd "
        #expect(restore.lines.count == 2 && restore.lines[1].hasPrefix(expected), "\(restore.lines)")
        #expect(restore.lines.last?.hasSuffix("serve --http 127.0.0.1:0 --data-dir \(dataDir.string)") == true, "\(restore.lines)")
        #expect(try server.wait(timeout: .seconds(30)) == 0)
        #expect(InstanceLock.currentHolder(dataDir: dataDir) == nil)
        let list = try ChildProcess.run(["backup", "list", "--data-dir", dataDir.string])
        #expect(list.firstLine == "1 archive in \(dataDir.appending("backups").string), 1 verified", "\(list.lines)")
    }

    @Test func verifySaysWhatTheArchiveHoldsInWords() throws {
        let (dir, dataDir) = try makeDataDirectory(rows: 20, fileMegabytes: 1)
        defer { withExtendedLifetime(dir) {} }
        #expect(try ChildProcess.run(["backup", "create", "--data-dir", dataDir.string]).status == 0)
        let archive = dataDir.appending("backups").appending(try #require(BackupCatalog.archives(in: dataDir.appending("backups")).first).name)
        let verify = try ChildProcess.run(["backup", "verify", archive.string, "--data-dir", dataDir.string])
        #expect(verify.status == 0, "\(verify.standardError)")
        #expect(verify.firstLine.hasPrefix("\(archive.string) is intact: 20 records in 1 collection, 1 file besides the database, made "), "\(verify.lines)")
        #expect(verify.errorLines.last?.contains("100%") == true, "\(verify.standardError)")
        let missing = dir.path("nope.zip")
        let refused = try ChildProcess.run(["backup", "restore", missing.string, "--data-dir", dir.path("fresh").string])
        #expect(refused.status == ExitStatus.noInput)
        #expect(refused.firstLine.hasPrefix("burg: backup \(missing.string): no such file"), "\(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("fresh").string), "a refused restore creates nothing")
    }
}
