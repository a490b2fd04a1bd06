import BurgCore
import BurgRecords
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// Record files: stored through AtomicFile under the record's directory, checked against the field,
/// encrypted at rest when a key exists (authenticated: damage and moves are detected), removed with
/// their record, and orphans found by the check.
@Suite struct RecordFilesTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 100)

    static func fixture(encrypted: Bool) throws -> RecordsFixture {
        let fixture = try RecordsFixture()
        if encrypted { try FileKey.create(in: fixture.dir.path) }
        var photos = Field(name: "photos", type: .file)
        photos.maxSelect = 3
        photos.maxSize = 3 << 20
        photos.mimeTypes = ["image/png", "image/jpeg"]
        var scan = Field(name: "scan", type: .file)
        scan.maxSize = 40 << 20
        try fixture.collections.create(CollectionModel(name: "patients", fields: [Field(name: "name", type: .text), photos, scan], id: "pbc_patients"))
        return fixture
    }

    func storedFiles(_ fixture: RecordsFixture) -> [String] {
        let root = fixture.dir.path("storage").string
        return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
            .filter { !FileManager.default.isDirectory(root + "/" + $0) }.sorted()
    }

    @Test(arguments: [false, true])
    func filesRoundTripAndLeaveWithTheirRecord(encrypted: Bool) throws {
        let fixture = try Self.fixture(encrypted: encrypted)
        // A 12 MiB + 5 byte scan: several encryption chunks and a short last one.
        var scan = [UInt8](repeating: 0, count: 12 << 20 + 5)
        for index in stride(from: 0, to: scan.count, by: 4096) { scan[index] = UInt8(truncatingIfNeeded: index >> 12) }
        let scanPath = fixture.dir.path("scan.bin")
        try AtomicFile.write(scan, to: scanPath)
        let record = try fixture.records.create("patients", ["name": "Ann"], files: [
            "photos": [FileUpload(filename: "Knee X-ray (left).PNG", source: .bytes(Self.png)), FileUpload(filename: "../../etc/passwd.png", source: .bytes(Self.png))],
            "scan": [FileUpload(filename: "scan.bin", source: .file(scanPath))],
        ])
        guard case .array(let photos)? = record.values["photos"], case .string(let first) = photos[0], case .string(let second) = photos[1],
              case .string(let scanName)? = record.values["scan"] else {
            Issue.record("file fields not set: \(record.values)")
            return
        }
        #expect(first.hasPrefix("knee_x-ray_left_") && first.hasSuffix(".PNG"))
        #expect(second.hasPrefix("etc_passwd_") || second.hasPrefix("passwd_"))
        let keyring = try FileKeyring.load(fixture.dir.path)
        #expect(try fixture.records.files.contents(collectionId: "pbc_patients", recordId: record.id, name: first, keyring: keyring) == Self.png)
        #expect(try fixture.records.files.contents(collectionId: "pbc_patients", recordId: record.id, name: scanName, keyring: keyring) == scan)
        // On disk: encrypted files carry no plaintext and a suffix; plain ones are the bytes themselves.
        let onDisk = try #require(try AtomicFile.read(fixture.dir.path("storage/pbc_patients/\(record.id)/\(scanName)\(encrypted ? FileStorage.encryptedSuffix : "")")))
        #expect((onDisk == scan) == !encrypted)
        #expect(storedFiles(fixture).count == 3)

        // Keeping one photo removes the other after the commit; deleting the record removes the rest.
        try fixture.records.update("patients", id: record.id, ["photos": .array([.string(second)])])
        #expect(storedFiles(fixture).count == 2)
        try fixture.records.delete("patients", id: record.id)
        #expect(storedFiles(fixture).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: fixture.dir.path("storage/pbc_patients/\(record.id)").string))
    }

    @Test func badUploadsAreRefusedWithFieldErrorsAndLeaveNothing() throws {
        let fixture = try Self.fixture(encrypted: true)
        let cases: [([String: [FileUpload]], String, String)] = [
            (["photos": [FileUpload(filename: "x.png", source: .bytes(Array("MZ not an image".utf8)))]], "photos", "validation_invalid_mime_type"),
            (["photos": [FileUpload(filename: "big.png", source: .bytes(Self.png + [UInt8](repeating: 1, count: 3 << 20)))]], "photos", "validation_file_size_limit"),
            (["photos": Array(repeating: FileUpload(filename: "a.png", source: .bytes(Self.png)), count: 4)], "photos", "validation_too_many_values"),
            (["photos": [FileUpload(filename: "empty.png", source: .bytes([]))]], "photos", "validation_empty_file"),
            (["name": [FileUpload(filename: "a.png", source: .bytes(Self.png))]], "name", "validation_unknown_field"),
        ]
        for (uploads, field, code) in cases {
            let error = #expect(throws: RecordValidationError.self) { try fixture.records.create("patients", ["name": "Ann"], files: uploads) }
            #expect(error?.fields[field]?.code == code, "\(code)")
        }
        // A valid upload with an invalid other value: refused before any file is written.
        #expect(throws: RecordValidationError.self) {
            try fixture.records.create("patients", ["name": .array(["not", "a text"])], files: ["photos": [FileUpload(filename: "a.png", source: .bytes(Self.png))]])
        }
        // Stored names cannot be set or pointed elsewhere by a client.
        #expect(throws: RecordValidationError.self) { try fixture.records.create("patients", ["photos": .array(["../../data.db"])]) }
        let record = try fixture.records.create("patients", ["name": "Bob"])
        #expect(throws: RecordValidationError.self) { try fixture.records.update("patients", id: record.id, ["photos": .array(["other_abc.png"])]) }
        #expect(storedFiles(fixture).isEmpty)
        #expect(try fixture.records.list("patients", ListQuery()).totalItems == 1)
    }

    @Test func damagedTruncatedOrMovedEncryptedFilesAreDetected() throws {
        let fixture = try Self.fixture(encrypted: true)
        let bytes = [UInt8](repeating: 9, count: (1 << 20) * 2)  // exactly two chunks: an empty final chunk follows
        let a = try fixture.records.create("patients", ["name": "A"], files: ["scan": [FileUpload(filename: "a.bin", source: .bytes(bytes))]])
        let b = try fixture.records.create("patients", ["name": "B"], files: ["scan": [FileUpload(filename: "b.bin", source: .bytes(bytes))]])
        let keyring = try FileKeyring.load(fixture.dir.path)
        guard case .string(let nameA)? = a.values["scan"], case .string(let nameB)? = b.values["scan"] else { return }
        #expect(try fixture.records.files.contents(collectionId: "pbc_patients", recordId: a.id, name: nameA, keyring: keyring) == bytes)
        let pathA = fixture.dir.path("storage/pbc_patients/\(a.id)/\(nameA)\(FileStorage.encryptedSuffix)").string
        let pathB = fixture.dir.path("storage/pbc_patients/\(b.id)/\(nameB)\(FileStorage.encryptedSuffix)").string
        let original = try Data(contentsOf: URL(fileURLWithPath: pathA))

        var flipped = original
        flipped[original.count / 2] ^= 1
        let truncated = original.prefix(original.count - 16)  // the empty final chunk is gone
        for (label, content) in [("flipped", flipped), ("truncated", Data(truncated)), ("moved", try Data(contentsOf: URL(fileURLWithPath: pathB)))] {
            try content.write(to: URL(fileURLWithPath: pathA))
            let error = #expect(throws: FileError.self, "\(label)") {
                try fixture.records.files.contents(collectionId: "pbc_patients", recordId: a.id, name: nameA, keyring: keyring)
            }
            #expect(error?.code == .damaged, "\(label)")
        }
        try original.write(to: URL(fileURLWithPath: pathA))
        // Without the key, the error says which key is needed.
        let error = #expect(throws: FileError.self) {
            try fixture.records.files.contents(collectionId: "pbc_patients", recordId: a.id, name: nameA, keyring: FileKeyring.load(try TemporaryDirectory().path))
        }
        #expect(error?.code == .keyUnavailable && error?.message.contains(keyring.current!.idHex) == true)
    }

    @Test func keyRotationReencryptsEveryFileAndCanBeResumed() throws {
        let fixture = try Self.fixture(encrypted: false)
        let plain = try fixture.records.create("patients", ["name": "Before"], files: ["photos": [FileUpload(filename: "p.png", source: .bytes(Self.png))]])
        try FileKey.create(in: fixture.dir.path)
        let first = try FileKeyring.load(fixture.dir.path).current!
        let sealed = try fixture.records.create("patients", ["name": "After"], files: ["photos": [FileUpload(filename: "q.png", source: .bytes(Self.png))]])

        let report = try FileKeyRotation(dataDirectory: fixture.dir.path).run()
        #expect(report.reencrypted == 1 && report.encryptedPlain == 1 && !report.resumed && report.newKeyID != first.idHex)
        let keyring = try FileKeyring.load(fixture.dir.path)
        #expect(keyring.retired.isEmpty && keyring.current?.idHex == report.newKeyID)
        // The old key is archived, not deleted: a backup from before the rotation still needs it.
        #expect(keyring.archived.map(\.idHex) == [first.idHex])
        for record in [plain, sealed] {
            guard case .array(let names)? = record.values["photos"], case .string(let name) = names[0] else { continue }
            #expect(try fixture.records.files.contents(collectionId: "pbc_patients", recordId: record.id, name: name, keyring: keyring) == Self.png)
        }
        #expect(storedFiles(fixture).allSatisfy { $0.hasSuffix(FileStorage.encryptedSuffix) })

        // An interrupted rotation (old key kept, new key written, no file re-encrypted yet) is finished
        // by the next run, with both keys available until then.
        let current = keyring.current!
        try AtomicFile.write(Array(try AtomicFile.read(fixture.dir.path("files.key"))!), to: fixture.dir.path("files.key.\(current.idHex)"))
        try FileManager.default.removeItem(atPath: fixture.dir.path("files.key").string)
        try FileKey.create(in: fixture.dir.path)
        let resumed = try FileKeyRotation(dataDirectory: fixture.dir.path).run()
        #expect(resumed.resumed && resumed.reencrypted == 2)
        #expect(try FileKeyring.load(fixture.dir.path).retired.isEmpty)
    }

    @Test func theCheckFindsOrphansAndMissingFilesAndDeletesOnlyOldOrphans() throws {
        let fixture = try Self.fixture(encrypted: true)
        let keep = try fixture.records.create("patients", ["name": "Keep"], files: ["photos": [FileUpload(filename: "k.png", source: .bytes(Self.png))]])
        let lose = try fixture.records.create("patients", ["name": "Lose"], files: ["scan": [FileUpload(filename: "s.bin", source: .bytes([1, 2, 3]))]])
        var clean = FileCheck(store: fixture.store)
        #expect(try clean.run(verify: true).isClean)
        // An orphan as a crash between file write and commit leaves it; a record whose file vanished.
        let orphanDirectory = fixture.dir.path("storage/pbc_patients/zzzzzzzzzzzzzzz")
        try FileManager.default.createDirectory(atPath: orphanDirectory.string, withIntermediateDirectories: true)
        try AtomicFile.write([1], to: orphanDirectory.appending("ghost_abcdefghij.png.burgenc"))
        guard case .string(let lostName)? = lose.values["scan"] else { return }
        try FileManager.default.removeItem(atPath: fixture.dir.path("storage/pbc_patients/\(lose.id)/\(lostName)\(FileStorage.encryptedSuffix)").string)

        let young = try clean.run(deleteOrphans: true)
        #expect(young.recent == ["pbc_patients/zzzzzzzzzzzzzzz/ghost_abcdefghij.png.burgenc"] && young.deleted.isEmpty)
        #expect(young.missing == ["patients/\(lose.id)/\(lostName)"])
        clean.gracePeriod = .zero
        let report = try clean.run(deleteOrphans: true)
        #expect(report.orphans == ["pbc_patients/zzzzzzzzzzzzzzz/ghost_abcdefghij.png.burgenc"] && report.deleted == report.orphans)
        #expect(!FileManager.default.fileExists(atPath: orphanDirectory.string))
        #expect(storedFiles(fixture).count == 1)
        _ = keep

        // The command: exit 65 while a file is missing.
        let run = try ChildProcess.burg("files", "check", "--json", "--data-dir", fixture.dir.path.string)
        #expect(try run.wait() == ExitStatus.dataError)
        #expect(run.lines.joined().contains(lostName))
    }

    @Test func killingAnUploadMidWayLeavesTheRecordAsItWasAndNoTornFile() throws {
        let fixture = try Self.fixture(encrypted: true)
        let record = try fixture.records.create("patients", ["name": "Ann"])
        let big = fixture.dir.path("big.bin")
        try AtomicFile.write(to: big) { writer in
            let chunk = [UInt8](repeating: 0x5A, count: 1 << 20)
            for _ in 0..<39 { try writer.write(chunk) }
        }
        let directory = fixture.dir.path("storage/pbc_patients/\(record.id)").string
        let upload = try ChildProcess.burg("files", "attach", "patients", record.id, "scan", big.string, "--data-dir", fixture.dir.path.string)
        // Wait until the upload is being written, then kill -9.
        let deadline = ContinuousClock.now + .seconds(30)
        var writing = false
        while ContinuousClock.now < deadline, upload.isRunning, !writing {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            writing = names.contains { $0.contains(AtomicFile.temporaryMarker) }
            if !writing { usleep(2_000) }
        }
        upload.signal(SIGKILL)
        _ = try upload.wait()
        #expect(writing, "the upload never started writing: \(upload.standardError)")
        // The record is unchanged, and no file under a real name exists: only a temporary leftover, if any.
        #expect(try fixture.records.get("patients", id: record.id).values["scan"] == .string(""))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        #expect(left.allSatisfy { $0.hasPrefix(".") && $0.contains(AtomicFile.temporaryMarker) }, "\(left)")
        // The check removes a dead writer's leftover and finds everything clean.
        let report = try FileCheck(store: fixture.store).run()
        #expect(report.isClean && report.leftoversRemoved == left.count)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).isEmpty)
    }
}

extension FileManager {
    func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}
