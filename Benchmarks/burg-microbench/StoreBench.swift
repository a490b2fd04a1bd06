import BurgCore
import ArgumentParser
import BurgStore
import Foundation
import Histogram
import SystemPackage

#if canImport(Glibc)
import Glibc
import GRDB
#endif

/// `burg-microbench store`: single-row write transactions/s, point reads/s and read-modify-write
/// increments/s through Burg's Store or through a raw GRDB DatabasePool with GRDB's defaults, in one or
/// several processes. Prints one JSON line; Benchmarks/store.sh compares it with Benchmarks/store_peer.py.
struct StoreBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Store throughput and commit latency (see Benchmarks/store.sh).")

    enum Implementation: String, ExpressibleByArgument { case burg, grdb }
    enum Workload: String, ExpressibleByArgument {
        /// `UPDATE kv SET v = ? WHERE k = ?` on a random row, one transaction each.
        case write
        /// `SELECT v FROM kv WHERE k = ?` on a random row, one read transaction each.
        case read
        /// Read the one counter row, write it plus one: contended read-modify-write; lost updates counted.
        case increment
    }

    @Option var impl: Implementation = .burg
    @Option var workload: Workload = .write
    @Option(help: "Directory for the database (created fresh).") var dir: String
    @Option var seconds: Double = 3
    @Option var processes: Int = 1
    @Option(help: "Rows in the kv table.") var rows: Int = 10_000
    @Option(help: "Store: PRAGMA mmap_size (default: the store's).") var mmapSize: Int?
    @Option(help: "Store: page cache per connection in KiB (default: the store's).") var cacheSize: Int?
    @Option(help: "Store: slow-read threshold in seconds, 0 = off (default: the store's).") var slowRead: Double?
    @Option(help: "Internal: run as one of several processes, starting at this Unix time.") var startAt: Double?

    func run() throws {
        if startAt == nil {
            try prepare()
            if processes > 1 { return try runChildren() }
        }
        var result = try measure()
        if startAt == nil && workload == .increment { result.lost = result.ops - (try counterValue()) }
        print(result.json)
    }

    private var databasePath: String { dir + "/data.db" }

    private static let migrations: StoreMigrations = .store + {
        var migrations = StoreMigrations()
        migrations.append("bench.0001-kv") { db in
            try db.execute(sql: """
                CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL);
                CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL);
                INSERT INTO counter VALUES (1, 0);
                """)
        }
        return migrations
    }()

    private func openStore() throws -> Store {
        var configuration = StoreConfiguration(dataDirectory: FilePath(dir))
        if let mmapSize { configuration.mmapSize = mmapSize }
        if let cacheSize { configuration.cacheSizeKiB = cacheSize }
        if let slowRead { configuration.slowReadThreshold = slowRead > 0 ? .seconds(slowRead) : nil }
        return try Store(configuration, migrations: Self.migrations)
    }

    private func prepare() throws {
        try? FileManager.default.removeItem(atPath: dir)
        let store = try openStore()
        try store.write { db in
            for k in 1...rows { try db.sqlite.execute(sql: "INSERT INTO kv (k, v) VALUES (?, 0)", arguments: [k]) }
        }
        try store.checkpoint(.truncate)
    }

    struct Result {
        var ops = 0
        var errors = 0
        var elapsed = 0.0
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var retries = 0
        var lost: Int?
        var impl = ""
        var workload = ""
        var processes = 1
        var firstError: String?
        var p50Override: UInt64?
        var p99Override: UInt64?

        var json: String {
            let rate = elapsed > 0 ? Double(ops) / elapsed : 0
            let error = firstError.map { ", \"firstError\": \"\($0.replacingOccurrences(of: "\"", with: "'"))\"" } ?? ""
            return "{\"impl\": \"\(impl)\", \"workload\": \"\(workload)\", \"processes\": \(processes), "
                + "\"ops\": \(ops), \"errors\": \(errors), \"seconds\": \(elapsed), \"opsPerSecond\": \(Int(rate)), "
                + "\"p50us\": \(p50Override ?? histogram.valueAtPercentile(50)), \"p99us\": \(p99Override ?? histogram.valueAtPercentile(99)), "
                + "\"retries\": \(retries)" + (lost.map { ", \"lost\": \($0)" } ?? "") + error + "}"
        }
    }

    /// One process's loop. Each operation is timed from the call to its return: for writes, that is
    /// the commit latency a caller sees, lock waits and retries included.
    private func measure() throws -> Result {
        var result = Result()
        result.impl = impl.rawValue
        result.workload = workload.rawValue
        let store = impl == .burg ? try openStore() : nil
        let pool = impl == .grdb ? try DatabasePool(path: databasePath) : nil
        if let startAt {
            let wait = startAt - Date().timeIntervalSince1970
            if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .milliseconds(Int(seconds * 1000))
        var generator = SystemRandomNumberGenerator()
        while true {
            let before = clock.now
            if before >= end { break }
            let k = Int.random(in: 1...rows, using: &generator)
            do {
                switch (workload, store, pool) {
                case (.write, let store?, _):
                    try store.write { db in try db.sqlite.execute(sql: "UPDATE kv SET v = v + 1 WHERE k = ?", arguments: [k]) }
                case (.write, _, let pool?):
                    try pool.write { db in try db.execute(sql: "UPDATE kv SET v = v + 1 WHERE k = ?", arguments: [k]) }
                case (.read, let store?, _):
                    _ = try store.read { db in try Int.fetchOne(db.sqlite, sql: "SELECT v FROM kv WHERE k = ?", arguments: [k]) }
                case (.read, _, let pool?):
                    _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT v FROM kv WHERE k = ?", arguments: [k]) }
                case (.increment, let store?, _):
                    try store.write { db in try Self.increment(db.sqlite) }
                case (.increment, _, let pool?):
                    try pool.write { db in try Self.increment(db) }
                default:
                    fatalError("unreachable")
                }
                result.ops += 1
                _ = result.histogram.record(UInt64((clock.now - before).microseconds))
            } catch {
                result.errors += 1
                if result.firstError == nil { result.firstError = "\(error)" }
            }
        }
        result.elapsed = (clock.now - start).seconds
        result.retries = store?.statistics.retries ?? 0
        return result
    }

    private static func increment(_ db: Database) throws {
        let value = try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE id = 1") ?? 0
        try db.execute(sql: "UPDATE counter SET value = ? WHERE id = 1", arguments: [value + 1])
    }

    private func counterValue() throws -> Int {
        try openStore().read { db in try Int.fetchOne(db.sqlite, sql: "SELECT value FROM counter WHERE id = 1") ?? 0 }
    }

    /// Starts `processes` copies of this command that begin together, and sums what they report.
    private func runChildren() throws {
        let startAt = Date().timeIntervalSince1970 + 1.0
        var arguments = Array(CommandLine.arguments.dropFirst())
        arguments += ["--start-at", "\(startAt)"]
        let children = try (0..<processes).map { _ in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            return (process, pipe)
        }
        var total = Result()
        total.impl = impl.rawValue
        total.workload = workload.rawValue
        total.processes = processes
        var p50s: [UInt64] = []
        var p99s: [UInt64] = []
        for (process, pipe) in children {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                // A process that could not even open the database (raw GRDB's defaults fail at once when
                // another process holds a lock) counts as one failed operation.
                total.errors += 1
                if total.firstError == nil { total.firstError = "a process exited with status \(process.terminationStatus) without a result" }
                continue
            }
            total.ops += object["ops"] as? Int ?? 0
            total.errors += object["errors"] as? Int ?? 0
            total.retries += object["retries"] as? Int ?? 0
            total.elapsed = max(total.elapsed, object["seconds"] as? Double ?? 0)
            if total.firstError == nil { total.firstError = object["firstError"] as? String }
            // Each child's histogram stays in its process: report the median child's p50, the worst p99.
            p50s.append(UInt64(object["p50us"] as? Int ?? 0))
            p99s.append(UInt64(object["p99us"] as? Int ?? 0))
        }
        if workload == .increment { total.lost = total.ops - (try counterValue()) }
        total.p50Override = p50s.sorted()[p50s.count / 2]
        total.p99Override = p99s.max()
        print(total.json)
    }
}


