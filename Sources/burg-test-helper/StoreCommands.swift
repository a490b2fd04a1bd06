import ArgumentParser
import BurgCore
import BurgStore
import BurgTestSupport
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Options every store helper takes.
struct StoreHelperOptions: ParsableArguments {
    @Option var dataDir: String
    @Option(help: "Per-attempt lock wait in milliseconds (default: the store's).") var busyTimeoutMs: Int?
    @Option(help: "WAL size limit in bytes (default: the store's).") var walSizeLimit: Int?

    func open() throws -> Store {
        var configuration = StoreConfiguration(dataDirectory: FilePath(dataDir))
        if let busyTimeoutMs { configuration.busyTimeout = .milliseconds(busyTimeoutMs) }
        if let walSizeLimit { configuration.walSizeLimit = walSizeLimit }
        return try Store(configuration, migrations: CounterSchema.migrations)
    }
}

/// Increments the test counter `count` times through `store.write`, then prints
/// `done writes=N retries=N busyWaits=N lockWaitP99us=N commitP99us=N`. With `--start-file`, waits for
/// that file to exist after opening the store, so that several processes start writing together.
struct StoreIncrement: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store-increment")
    @OptionGroup var store: StoreHelperOptions
    @Option var count: Int = 1000
    @Option var startFile: String?

    func run() throws {
        let store = try self.store.open()
        say("ready")
        if let startFile {
            while !FileManager.default.fileExists(atPath: startFile) { usleep(1000) }
        }
        let pid = getpid()
        let opened = store.statistics  // opening may have written (migrations)
        for _ in 0..<count {
            do {
                _ = try store.write { db in try CounterSchema.increment(db.sqlite, pid: pid) }
            } catch {
                say("error: \(error)")
                throw ExitCode(1)
            }
        }
        let s = store.statistics
        say("done writes=\(s.writes - opened.writes) retries=\(s.retries) busyWaits=\(s.busyWaits) "
            + "lockWaitP99us=\(s.lockWait.p99.microseconds) commitP99us=\(s.commitLatency.p99.microseconds)")
    }
}

/// Increments the counter forever, printing `acked N` after each write returns; for kill -9 tests.
struct StoreWriterLoop: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store-writer-loop")
    @OptionGroup var store: StoreHelperOptions
    @Option var payloadBytes: Int = 8192

    func run() throws {
        let store = try self.store.open()
        let pid = getpid()
        say("ready")
        while true {
            let value = try store.write { db in try CounterSchema.increment(db.sqlite, pid: pid, payloadBytes: payloadBytes) }
            say("acked \(value)")
        }
    }
}

/// Opens a read transaction, reads the counter, prints `holding`, and keeps the snapshot for `seconds`.
struct StoreHoldSnapshot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store-hold-snapshot")
    @OptionGroup var store: StoreHelperOptions
    @Option var seconds: Double = 60

    func run() throws {
        let store = try self.store.open()
        try store.read { db in
            let value = try CounterSchema.value(db.sqlite)
            say("holding \(value)")
            usleep(UInt32(seconds * 1_000_000))
        }
        say("released")
    }
}


