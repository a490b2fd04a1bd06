@testable import BurgBackup
import BurgCore
import Foundation
import SystemPackage

/// The backup reader (`burg backup verify` and restore): the input is an archive file. Invariants: it is
/// verified or refused with a `BackupError` (never another error), nothing is written outside the
/// verifier's temporary work folder, which is gone afterwards, and an archive that verifies has a
/// manifest whose entries all have safe names.
enum BackupHarness {
    static let directory = temporaryDirectory("backup")
    static let knownMigrations = ["v1"]

    static func run(_ input: [UInt8]) {
        let folder = directory.appendingPathComponent("case")
        try? FileManager.default.removeItem(at: folder)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
            try Data(input).write(to: folder.appendingPathComponent("archive.zip"))
        } catch {
            unexpected(error, "writing the archive")
        }
        let archive = FilePath(folder.appendingPathComponent("archive.zip").path)
        do {
            let verification = try BackupVerifier(knownMigrations: knownMigrations).verify(archive)
            require(verification.manifest.entries.allSatisfy { BackupVerifier.isSafeEntryName($0.name) }, "an unsafe entry name verified")
        } catch is BackupError {
        } catch {
            unexpected(error, "verifying an archive")
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        require(left == ["archive.zip"], "the verifier left \(left) next to the archive")
        let outside = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        require(outside == ["case"], "the verifier wrote \(outside) outside its folder")
    }
}
