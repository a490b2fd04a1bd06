import BurgBench
import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// Links planted in a target, fio options that would size or place files, and fio failing.
@Suite struct BenchSafetyTests {
    func victim(_ dir: TemporaryDirectory) throws -> FilePath {
        let file = dir.path("precious")
        try Data("precious contents\n".utf8).write(to: URL(fileURLWithPath: file.string))
        return file
    }

    func contents(_ path: FilePath) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: path.string))).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aLockFilePlantedAsASymbolicLinkIsRefusedNamingItAndWhatItPointsAtIsUntouched() throws {
        let dir = try TemporaryDirectory()
        let victim = try victim(dir)
        try FileManager.default.createDirectory(atPath: dir.path("target").string, withIntermediateDirectories: false)
        let lock = dir.path("target").appending(".burg-bench.lock")
        try FileManager.default.createSymbolicLink(atPath: lock.string, withDestinationPath: victim.string)
        #expect {
            try BenchTarget.acquire(dir.path("target"), configuration: BenchConfiguration(), bytesNeeded: 1 << 20, allowCached: false)
        } throws: { error in
            guard let error = error as? BenchError else { return false }
            return error.code == .symbolicLink && error.exitCode == ExitStatus.noPermission
                && error.description.contains(lock.string) && error.description.contains("symbolic link")
        }
        #expect(contents(victim) == "precious contents\n")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: lock.string)) == victim.string)
    }

    @Test func aTestFilePlantedAsASymbolicLinkIsRefusedNamingItAndLeftAlone() throws {
        let dir = try TemporaryDirectory()
        let victim = try victim(dir)
        try FileManager.default.createDirectory(atPath: dir.path("target").string, withIntermediateDirectories: false)
        let planted = dir.path("target").appending(BenchTarget.testFilePrefix + "1-cdm")
        try FileManager.default.createSymbolicLink(atPath: planted.string, withDestinationPath: victim.string)
        let run = try ChildProcess.burg(
            "bench", "run", "--target", dir.path("target").string, "--data-dir", dir.path("data").string,
            "--file-size", "8M", "--duration", "0.2", "--ramp", "0", "--only", "RND4K Q1T1 read")
        #expect(try run.wait() == ExitStatus.noPermission, "\(run.standardError)")
        #expect(run.standardError.contains("refusing to benchmark: \(planted.string) is a symbolic link"), "\(run.standardError)")
        #expect(contents(victim) == "precious contents\n")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: planted.string)) == victim.string)
        #expect(!FileManager.default.fileExists(atPath: dir.path("target").appending(".burg-bench.lock").string))
        #expect(!FileManager.default.fileExists(atPath: dir.path("data").string))
    }

    @Test func theEnginesNeverOpenATestFileThroughASymbolicLink() throws {
        let dir = try TemporaryDirectory()
        let real = dir.path("real")
        try makeFile(real, size: 1 << 20)
        try FileManager.default.createSymbolicLink(atPath: dir.path("link").string, withDestinationPath: real.string)
        let workload = Workload(
            name: "w", pattern: .random, readPercent: 0, blockSize: 4096, queueDepth: 1, fileSize: 1 << 20, duration: 0.1, rampUp: 0)
        #expect {
            try NativeEngine.run(workload, file: dir.path("link"), direct: false, cached: true)
        } throws: { error in
            (error as? BenchError)?.code == .symbolicLink && "\(error)".contains(dir.path("link").string)
        }
    }

    /// Found by the fio fuzz harness: Swift's `isNumber`/`isLetter` accept other scripts' digits and letters
    /// with combining marks, so these passed the value checks and reached fio's command line.
    @Test(arguments: ["iodepth=\u{661}\u{662}", "bs=4k\u{301}", "bs=5u4ue\u{30D}xexen", "rate=\u{FF11}m", "rw\u{0131}=read", "runtime=\u{BD}"])
    func fioOptionsWithNonASCIICharactersAreRefused(option: String) {
        #expect {
            try FioOptions([option])
        } throws: { error in
            (error as? BenchError)?.code == .refusedFioOption && "\(error)".contains("only ASCII")
        }
    }

    @Test(arguments: [
        "size=1T", "filesize=1T", "io_size=1T", "io_limit=1T", "offset=1T", "offset_increment=1G", "number_ios=1000000000",
        "numjobs=256", "nrfiles=1000", "file_append=1", "zonemode=strided", "zoneskip=1T", "create_on_open=1",
    ])
    func fioOptionsThatSizeOrPlaceFilesAreRefused(option: String) {
        #expect {
            try FioOptions([option])
        } throws: { error in
            guard let error = error as? BenchError else { return false }
            return error.code == .refusedFioOption && error.description.contains(option)
                && (error.description.contains("Burg sizes the test file") || error.description.contains("chosen and removed by Burg"))
        }
    }

    @Test func aFioOptionThatWouldGrowTheTestFileIsRefusedBeforeAnythingIsCreated() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path("target").string, withIntermediateDirectories: false)
        let run = try ChildProcess.burg(
            "bench", "run", "--target", dir.path("target").string, "--data-dir", dir.path("data").string, "--engine", "fio",
            "--file-size", "8M", "--fio-option", "size=1T")
        #expect(try run.wait() == ExitStatus.usage, "\(run.standardError)")
        #expect(run.standardError.contains("refusing fio option 'size=1T'"), "\(run.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("target").string).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.path("data").string))
    }

    @Test func aFailingFioIsReportedAsFiosFailureWithItsMessageNotAsABug() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path("target").string, withIntermediateDirectories: false)
        // A stand-in for fio that fails as fio does when its job cannot run.
        let script = dir.path("failing-fio")
        try Data("#!/bin/sh\necho 'fio: pid=0, err=28/file:filesetup.c:240, func=write, error=No space left on device' >&2\nexit 1\n".utf8)
            .write(to: URL(fileURLWithPath: script.string))
        chmod(script.string, 0o755)
        let config = dir.path("burg.json")
        try AtomicFile.write(Array(#"{"bench": {"fioPath": "\#(script.string)"}}"#.utf8), to: config)
        let run = try ChildProcess.burg(
            "bench", "run", "--config", config.string, "--target", dir.path("target").string, "--data-dir", dir.path("data").string,
            "--engine", "fio", "--file-size", "8M", "--duration", "0.2", "--ramp", "0", "--only", "RND4K Q1T1 read")
        let status = try run.wait()
        #expect(status == ExitStatus.ioError, "\(run.standardError)")
        #expect(status != ExitStatus.software)
        #expect(run.standardError.contains("fio failed on RND4K Q1T1 read"), "\(run.standardError)")
        #expect(run.standardError.contains("error=No space left on device"), "\(run.standardError)")
        #expect(!run.standardError.contains("internal error"))
        #expect(testFiles(in: dir.path("target")).isEmpty)
    }

    @Test func aFioThatCannotBeStartedIsReportedUnavailable() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path("target").string, withIntermediateDirectories: false)
        let script = dir.path("not-executable-fio")
        try Data("not a program".utf8).write(to: URL(fileURLWithPath: script.string))
        chmod(script.string, 0o644)
        var configuration = BenchConfiguration()
        configuration.fioPath = script
        let runner = try FioRunner(configuration: configuration)
        let workload = Workload(
            name: "w", pattern: .random, readPercent: 100, blockSize: 4096, queueDepth: 1, fileSize: 1 << 20, duration: 0.1, rampUp: 0)
        #expect {
            try runner.run(workload, file: dir.path("f"), direct: false, cached: false)
        } throws: { error in
            guard let error = error as? BenchError else { return false }
            return error.code == .fioMissing && error.exitCode == ExitStatus.unavailable && error.description.contains("cannot start it")
        }
    }
}
