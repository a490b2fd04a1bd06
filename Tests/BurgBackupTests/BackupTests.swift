import BurgBackup
import BurgCore
import BurgRecords
import BurgStore
import BurgTestSupport
import Crypto
import Foundation
import GRDB
import SystemPackage
import Testing

/// A data directory with the accounts schema and a writer process moving money around.
struct AccountsFixture {
    let dir: TemporaryDirectory
    let dataDir: FilePath
    let store: Store

    init() throws {
        dir = try TemporaryDirectory()
        dataDir = dir.path("data")
        store = try Store(StoreConfiguration(dataDirectory: dataDir), migrations: AccountsSchema.migrations + BackupHistory.migrations)
    }

    var migrations: [String] { (AccountsSchema.migrations + BackupHistory.migrations).identifiers }
    var creator: BackupCreator { BackupCreator(store: store, dataDirectory: dataDir, knownMigrations: migrations) }
    var verifier: BackupVerifier { BackupVerifier(knownMigrations: migrations) }
}

func sha256(_ path: FilePath) throws -> String {
    SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: path.string))).map { String(format: "%02x", $0) }.joined()
}

@Suite struct BackupTests {
    @Test func aBackupTakenWhileWritersMoveMoneyRestoresExactlyTheConstantSumAndPassesIntegrityCheck() async throws {
        let fixture = try AccountsFixture()
        // Make the database big enough that the snapshot takes a while.
        try await fixture.store.write { db in try db.execute(sql: "UPDATE accounts SET note = randomblob(20000)") }
        let writers = try (0..<2).map { _ in try ChildProcess.helper("account-transfers", "--data-dir", fixture.dataDir.string) }
        defer { writers.forEach { $0.signal(SIGKILL) } }
        for writer in writers { try await writer.waitForLine("transfers 200") }
        var results: [BackupResult] = []
        for _ in 0..<3 { results.append(try fixture.creator.create()) }
        for writer in writers { #expect(writer.isRunning, "the writers kept writing during the backups") }
        for result in results {
            #expect(result.record.verified)
            let restored = try TemporaryDirectory()
            _ = try fixture.verifier.verify(result.path, extractTo: restored.path)
            let database = try DatabaseQueue(path: restored.path("data.db").string)
            let (sum, integrity) = try await database.read { db in
                (try AccountsSchema.sum(db), try String.fetchAll(db, sql: "PRAGMA integrity_check"))
            }
            #expect(sum == AccountsSchema.total)
            #expect(integrity == ["ok"])
        }
        #expect(try BackupHistory(store: fixture.store).list().filter(\.verified).count == 3)
    }

    @Test func recordsAndFilesRoundTripThroughBackupAndRestoreIdentically() async throws {
        let dir = try TemporaryDirectory()
        let dataDir = dir.path("data")
        let migrations = StoreMigrations.store + CollectionRegistry.migrations + BackupHistory.migrations
        let store = try Store(StoreConfiguration(dataDirectory: dataDir), migrations: migrations)
        var name = Field(name: "name", type: .text)
        name.required = true
        _ = try await CollectionRegistry(store: store).create(CollectionModel(name: "patients", fields: [name, Field(name: "born", type: .date)]))
        let records = RecordStore(store: store)
        for index in 0..<250 { try await records.create("patients", ["name": .string("Patient \(index)"), "born": .string("1980-01-01 00:00:00.000Z")]) }
        let storage = dataDir.appending("storage/pbc_patients/abc123")
        try FileManager.default.createDirectory(atPath: storage.string, withIntermediateDirectories: true)
        var photos: [String: String] = [:]
        for index in 0..<3 {
            let path = storage.appending("photo\(index)_x1y2z3.jpg")
            try Data((0..<(300_000 + index)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }).write(to: URL(fileURLWithPath: path.string))
            photos[path.lastComponent!.string] = try sha256(path)
        }
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: dataDir.appending("burg.json").string))
        let before = try await records.list("patients", { var q = ListQuery(); q.perPage = 500; q.sort = "name"; return q }()).items

        let result = try BackupCreator(store: store, dataDirectory: dataDir, knownMigrations: migrations.identifiers).create()
        #expect(result.manifest.collections == ["patients": 250])
        #expect(result.manifest.entries.map(\.name).contains("storage/pbc_patients/abc123/photo1_x1y2z3.jpg"))

        // Change everything after the snapshot, then restore: the snapshot's state comes back.
        for record in before.prefix(10) { try await records.delete("patients", id: record.id) }
        try FileManager.default.removeItem(atPath: storage.appending("photo0_x1y2z3.jpg").string)
        let restored = try BackupRestorer(knownMigrations: migrations.identifiers).restore(result.path, key: nil, into: dataDir)
        #expect(FileManager.default.fileExists(atPath: restored.previous.appending("data.db").string), "the previous state is kept")
        #expect(FileManager.default.fileExists(atPath: dataDir.appending("backups").appending(result.path.lastComponent!.string).string))
        #expect(try String(contentsOfFile: dataDir.appending("burg.json").string, encoding: .utf8) == "keep me")
        let reopened = try Store(StoreConfiguration(dataDirectory: dataDir), migrations: migrations)
        let after = try await RecordStore(store: reopened).list("patients", { var q = ListQuery(); q.perPage = 500; q.sort = "name"; return q }()).items
        #expect(after == before)
        for (file, hash) in photos { #expect(try sha256(storage.appending(file)) == hash, "\(file)") }
    }

    @Test func aFlippedByteIsNamedByVerifyAndRestoreRefusesTheArchiveLeavingDataUntouched() throws {
        let fixture = try AccountsFixture()
        try fixture.store.write { db in try db.execute(sql: "UPDATE accounts SET note = randomblob(4000)") }
        let result = try fixture.creator.create()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: result.path.string))
        bytes[bytes.count / 3] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: result.path.string))
        let error = #expect(throws: BackupError.self) { try fixture.verifier.verify(result.path) }
        #expect(error?.code == .corrupt && error?.entry == "data.db", "\(String(describing: error))")
        #expect(error?.description.contains("data.db") == true)

        let liveBefore = try sha256(fixture.dataDir.appending("data.db"))
        #expect(throws: BackupError.self) {
            try BackupRestorer(knownMigrations: fixture.migrations).restore(result.path, key: nil, into: fixture.dataDir)
        }
        #expect(try sha256(fixture.dataDir.appending("data.db")) == liveBefore)
        let siblings = try FileManager.default.contentsOfDirectory(atPath: fixture.dir.path.string)
        #expect(siblings == ["data"], "no staging or before-restore directory is left: \(siblings)")
    }

    @Test func encryptedBackupsOpenOnlyWithTheirKeyOrPassphrase() throws {
        let fixture = try AccountsFixture()
        let keyPath = try BackupKey.createKeyFile(at: fixture.dir.path("backup.key"))
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath.string)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(throws: BackupError.self) { try BackupKey.createKeyFile(at: keyPath) }

        let encrypted = try fixture.creator.create(key: .keyFile(keyPath))
        #expect(encrypted.path.string.hasSuffix(".zip.enc"))
        let raw = try Data(contentsOf: URL(fileURLWithPath: encrypted.path.string))
        #expect(raw.range(of: Data("manifest.json".utf8)) == nil, "nothing readable without the key")
        _ = try fixture.verifier.verify(encrypted.path, key: .keyFile(keyPath))

        let otherKey = try BackupKey.createKeyFile(at: fixture.dir.path("other.key"))
        for key: BackupKey? in [nil, .keyFile(otherKey), .passphrase("guess")] {
            let error = #expect(throws: BackupError.self) { try fixture.verifier.verify(encrypted.path, key: key) }
            #expect(error?.code == .wrongKey)
        }
        let withPassphrase = try fixture.creator.create(key: .passphrase("correct horse battery"), now: Date().addingTimeInterval(1))
        _ = try fixture.verifier.verify(withPassphrase.path, key: .passphrase("correct horse battery"))
        #expect((#expect(throws: BackupError.self) { try fixture.verifier.verify(withPassphrase.path, key: .passphrase("correct horse batterx")) })?.code == .wrongKey)

        // Truncation after a whole segment is detected, not taken for the end.
        var truncated = raw
        truncated.removeLast(20)
        try truncated.write(to: URL(fileURLWithPath: encrypted.path.string))
        #expect((#expect(throws: BackupError.self) { try fixture.verifier.verify(encrypted.path, key: .keyFile(keyPath)) })?.code == .corrupt)
    }

    @Test func notAZipAZipWithoutManifestAndAnArchiveFromANewerSchemaAreRefused() throws {
        let fixture = try AccountsFixture()
        let garbage = fixture.dir.path("garbage.zip")
        try Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }).write(to: URL(fileURLWithPath: garbage.string))
        #expect((#expect(throws: BackupError.self) { try fixture.verifier.verify(garbage) })?.code == .notAnArchive)
        #expect((#expect(throws: BackupError.self) { try fixture.verifier.verify(fixture.dir.path("missing.zip")) })?.code == .notFound)

        let result = try fixture.creator.create()
        // The same archive checked by an older Burg that lacks one of its migrations.
        let older = BackupVerifier(knownMigrations: fixture.migrations.filter { $0 != "backup.0001-history" })
        let newer = #expect(throws: BackupError.self) { try older.verify(result.path) }
        #expect(newer?.code == .newerSchema && newer?.description.contains("backup.0001-history") == true)
        let liveBefore = try sha256(fixture.dataDir.appending("data.db"))
        #expect(throws: BackupError.self) {
            try BackupRestorer(knownMigrations: fixture.migrations.filter { $0 != "backup.0001-history" }).restore(result.path, key: nil, into: fixture.dataDir)
        }
        #expect(try sha256(fixture.dataDir.appending("data.db")) == liveBefore)
    }

    @Test func restoreRefusesWhileAServerHoldsTheDataDirectoryAndNamesItsPid() throws {
        let fixture = try AccountsFixture()
        let result = try fixture.creator.create()
        // A process holding the data directory's instance lock, as `burg serve` does.
        let server = try ChildProcess.helper("hold-lock", InstanceLock.lockFilePath(dataDir: fixture.dataDir).string)
        defer { server.signal(SIGKILL) }
        try server.waitForLine("locked")
        let error = #expect(throws: BackupError.self) {
            try BackupRestorer(knownMigrations: fixture.migrations).restore(result.path, key: nil, into: fixture.dataDir)
        }
        #expect(error?.code == .serverRunning && error?.description.contains("pid \(server.pid)") == true, "\(String(describing: error))")
    }

    @Test func retentionKeepsTheNewestAndOnePerDayWeekAndMonth() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let hour = 3600.0
        // Every 6 hours for 120 days.
        let archives = (0..<480).map { (name: "b\($0)", date: now.addingTimeInterval(-Double($0) * 6 * hour)) }
        var policy = RetentionPolicy()
        policy.keepLast = 3
        policy.daily = 7
        policy.weekly = 4
        policy.monthly = 3
        let deleted = Set(policy.prune(archives, now: now))
        let kept = archives.filter { !deleted.contains($0.name) }
        #expect(kept.prefix(3).map(\.name) == ["b0", "b1", "b2"])
        #expect(kept.count >= 3 + 6 && kept.count <= 3 + 7 + 4 + 3 + 2)
        #expect(!deleted.contains("b0"))
        #expect(deleted.contains("b479"), "older than every generation")
        #expect(RetentionPolicy().prune([], now: now).isEmpty)
    }
}
