import Foundation
internal import GRDB
import SystemPackage

/// A store's health: what was checked, a verdict, and the reasons for it in words an operator can act
/// on. `burg db health` prints it (or its JSON).
public struct StoreHealth: Sendable, Equatable, Codable {
    public enum Verdict: String, Sendable, Codable, Comparable {
        /// Everything checked is fine.
        case healthy
        /// The database works, but something will hurt if left alone (the WAL grows, the disk fills).
        case degraded
        /// Data is damaged or the database cannot be used as Burg needs.
        case unhealthy

        private var rank: Int { self == .healthy ? 0 : self == .degraded ? 1 : 2 }
        public static func < (lhs: Verdict, rhs: Verdict) -> Bool { lhs.rank < rhs.rank }
    }

    /// The outcome of `PRAGMA quick_check`, run until it finished or its time budget ran out.
    public struct QuickCheck: Sendable, Equatable, Codable {
        /// True when quick_check found no problem in what it checked.
        public var ok: Bool
        /// False when the budget ran out first: `ok` then covers only what was checked.
        public var completed: Bool
        /// Problems reported (at most 20).
        public var problems: [String]
        public var milliseconds: Double
        public var budgetMilliseconds: Double
    }

    public var verdict: Verdict
    /// Why the verdict is not healthy (empty when healthy).
    public var reasons: [String]
    /// Observations that do not change the verdict (a quick_check stopped early, memory-backed storage...).
    public var notes: [String]
    public var info: StoreInfo
    public var quickCheck: QuickCheck
    /// A PASSIVE checkpoint run for the report: how far the WAL could be copied back right now.
    public var checkpoint: CheckpointResult?
    /// Processes holding WAL read snapshots at the time of the check.
    public var walReaders: [WALReader]
    public var compileOptions: [String]
}

extension Store {
    /// Checks the database. Takes at most about `quickCheckBudget` plus a few milliseconds; reads only,
    /// except for a PASSIVE checkpoint (which never waits and never loses anything).
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func health(quickCheckBudget: Duration = .seconds(2)) throws(StoreError) -> StoreHealth {
        let checkpoint = try? checkpoint(.passive)
        let info = try info()
        let quickCheck = try runQuickCheck(budget: quickCheckBudget)
        let readers = WALReader.holding(shmPath: configuration.shmPath)
        let compileOptions: [String]
        do {
            compileOptions = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA compile_options") }
        } catch {
            throw storeError(error)
        }

        var reasons: [(StoreHealth.Verdict, String)] = []
        var notes: [String] = []
        if !quickCheck.ok {
            reasons.append((.unhealthy, "quick_check found \(quickCheck.problems.count) problem(s): "
                + quickCheck.problems.prefix(3).joined(separator: "; ")
                + "; restore from a backup"))
        }
        if !quickCheck.completed {
            notes.append("quick_check stopped after its \(Int(quickCheck.budgetMilliseconds)) ms budget before checking every page; the verdict covers only the pages it checked")
        }
        if info.journalMode.lowercased() != "wal" {
            reasons.append((.unhealthy, "journal mode is \(info.journalMode), not wal: concurrent processes will block each other"))
        }
        if !info.schema.unknown.isEmpty {
            reasons.append((.unhealthy, "the schema has migrations this Burg does not know: \(info.schema.unknown.joined(separator: ", "))"))
        }
        if info.walBytes > Int64(configuration.walSizeLimit) {
            let others = readers.filter { !$0.isThisProcess }
            var reason = "WAL is \(megabytes(info.walBytes)), over its limit of \(megabytes(Int64(configuration.walSizeLimit)))"
            if let checkpoint, !checkpoint.isComplete {
                reason += checkpoint.busy
                    ? "; a checkpoint could not run"
                    : "; a checkpoint could copy only \(checkpoint.checkpointedFrames) of \(checkpoint.walFrames) frames"
            }
            if others.isEmpty {
                reason += "; no reader holds it back now, so the next checkpoint (`burg db checkpoint`) should shrink it"
            } else {
                reason += " because a reader starves checkpoints: "
                    + others.map(\.description).joined(separator: ", ")
                    + " holds an old snapshot; end its long read transaction"
            }
            reasons.append((.degraded, reason))
        }
        if let available = info.fileSystemAvailableBytes, let total = info.fileSystemTotalBytes, total > 0 {
            if available < UInt64(info.databaseBytes) {
                reasons.append((.degraded, "only \(megabytes(Int64(available))) free on the disk, less than the database's size: "
                    + "vacuum and backups cannot run; free space"))
            } else if Double(available) / Double(total) < 0.05 {
                reasons.append((.degraded, "the disk is over 95% full (\(megabytes(Int64(available))) free); free space"))
            }
        }
        if info.pageCount > 1000, info.freelistPages * 2 > info.pageCount {
            notes.append("\(info.freelistPages) of \(info.pageCount) pages are free; `burg db vacuum` would shrink the file")
        }
        if fileSystem?.isMemoryBacked == true {
            notes.append("the data directory is on \(fileSystem?.typeName ?? "memory"): nothing survives a reboot")
        }
        return StoreHealth(
            verdict: reasons.map(\.0).max() ?? .healthy,
            reasons: reasons.map(\.1),
            notes: notes,
            info: info,
            quickCheck: quickCheck,
            checkpoint: checkpoint,
            walReaders: readers,
            compileOptions: compileOptions)
    }

    /// `PRAGMA quick_check` on a connection of its own, table by table so that it can stop at its budget
    /// (SQLite 3.40 cannot interrupt one quick_check of the whole file). When every table was checked
    /// with time to spare, a whole-file quick_check also covers the free-page list.
    private func runQuickCheck(budget: Duration) throws(StoreError) -> StoreHealth.QuickCheck {
        let start = ContinuousClock.now
        func result(ok: Bool, completed: Bool, problems: [String]) -> StoreHealth.QuickCheck {
            .init(ok: ok, completed: completed, problems: problems,
                  milliseconds: (ContinuousClock.now - start).seconds * 1000,
                  budgetMilliseconds: budget.seconds * 1000)
        }
        var problems: [String] = []
        var completed = true
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            let connection = try DatabaseQueue(path: path.string, configuration: configuration)
            defer { try? connection.close() }
            try connection.read { db in
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                for table in tables + ["sqlite_master"] {
                    if ContinuousClock.now - start >= budget {
                        completed = false
                        return
                    }
                    let rows = try String.fetchAll(db, sql: "PRAGMA quick_check(\(table.quotedDatabaseIdentifier))")
                    if rows != ["ok"] { problems += rows }
                    if problems.count >= 20 { return }
                }
                if problems.isEmpty, ContinuousClock.now - start < budget / 2 {
                    let rows = try String.fetchAll(db, sql: "PRAGMA quick_check(20)")
                    if rows != ["ok"] { problems += rows }
                }
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
            problems.append(error.message ?? "database disk image is malformed")
        } catch {
            throw storeError(error)
        }
        return result(ok: problems.isEmpty, completed: completed, problems: Array(problems.prefix(20)))
    }
}

func megabytes(_ bytes: Int64) -> String {
    if bytes < 1 << 20 { return "\(bytes / 1024) KiB" }
    return "\((Double(bytes) / 1_048_576 * 10).rounded() / 10) MiB"
}
