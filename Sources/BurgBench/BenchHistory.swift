import BurgCore
import BurgStore
import Foundation
internal import GRDB

/// Stored benchmark runs in Burg's database: the run (settings, machine, summaries) as one row, and its
/// per-second samples as rows of their own for charts.
///
/// Guarantees: a run is stored in one transaction (all of it or nothing); stored runs are never changed.
public enum BenchHistory {
    /// BurgBench's migrations; append-only like every capability's (see ``StoreMigrations``).
    public static let migrations: StoreMigrations = {
        var migrations = StoreMigrations()
        migrations.append("bench.0001-runs") { db in
            try db.execute(sql: """
                CREATE TABLE bench_runs (
                    id INTEGER PRIMARY KEY,
                    started_at INTEGER NOT NULL,
                    finished_at INTEGER NOT NULL,
                    preset TEXT NOT NULL,
                    target TEXT NOT NULL,
                    engines TEXT NOT NULL,
                    cached INTEGER NOT NULL,
                    run TEXT NOT NULL
                ) STRICT;
                CREATE TABLE bench_samples (
                    run_id INTEGER NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
                    engine TEXT NOT NULL,
                    workload TEXT NOT NULL,
                    second INTEGER NOT NULL,
                    bytes_per_second REAL NOT NULL,
                    iops REAL NOT NULL,
                    p99_ns INTEGER,
                    PRIMARY KEY (run_id, engine, workload, second)
                ) STRICT;
                """)
        }
        migrations.append("bench.0002-rounds") { db in
            // Rounds repeat a workload on an engine, so a sample is keyed by its round as well; the run
            // row keeps the round count and the flags for `burg bench history`.
            try db.execute(sql: """
                ALTER TABLE bench_runs ADD COLUMN rounds INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE bench_runs ADD COLUMN flags TEXT NOT NULL DEFAULT '';
                CREATE TABLE bench_samples_rounds (
                    run_id INTEGER NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
                    engine TEXT NOT NULL,
                    workload TEXT NOT NULL,
                    round INTEGER NOT NULL DEFAULT 0,
                    second INTEGER NOT NULL,
                    bytes_per_second REAL NOT NULL,
                    iops REAL NOT NULL,
                    p99_ns INTEGER,
                    PRIMARY KEY (run_id, engine, workload, round, second)
                ) STRICT;
                INSERT INTO bench_samples_rounds (run_id, engine, workload, round, second, bytes_per_second, iops, p99_ns)
                    SELECT run_id, engine, workload, 0, second, bytes_per_second, iops, p99_ns FROM bench_samples;
                DROP TABLE bench_samples;
                ALTER TABLE bench_samples_rounds RENAME TO bench_samples;
                """)
        }
        return migrations
    }()

    /// Stores `run` (with its summary) and returns its id.
    public static func save(_ run: BenchRun, in store: Store) throws -> Int64 {
        var run = run
        run.summary = run.summaryOrComputed
        var summary = run
        summary.id = nil
        for index in summary.results.indices { summary.results[index].samples = [] }
        let json = String(decoding: try JSONEncoder().encode(summary), as: UTF8.self)
        return try store.write { db in
            try db.sqlite.execute(
                sql: """
                    INSERT INTO bench_runs (started_at, finished_at, preset, target, engines, cached, run, rounds, flags)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    run.startedAt, run.finishedAt, run.settings.preset.rawValue, run.target,
                    run.settings.engines.map(\.rawValue).joined(separator: ","), run.cached, json, run.roundCount,
                    (run.summary?.flags ?? []).joined(separator: ","),
                ])
            let id = db.sqlite.lastInsertedRowID
            for result in run.results {
                for sample in result.samples {
                    try db.sqlite.execute(
                        sql: """
                            INSERT INTO bench_samples (run_id, engine, workload, round, second, bytes_per_second, iops, p99_ns)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            id, result.engine.rawValue, result.workload.name, result.round ?? 0, sample.second, sample.bytesPerSecond,
                            sample.iops, sample.p99.map { Int64(clamping: $0) },
                        ])
                }
            }
            return id
        }
    }

    /// Stored runs, newest first.
    public static func list(in store: Store, limit: Int = 100) throws -> [BenchRunSummary] {
        try store.read { db in
            try Row.fetchAll(
                db.sqlite, sql: "SELECT id, started_at, preset, target, engines, cached, rounds, flags FROM bench_runs ORDER BY id DESC LIMIT ?",
                arguments: [limit]
            ).map { row in
                BenchRunSummary(
                    id: row["id"], startedAt: row["started_at"], preset: Preset(rawValue: row["preset"]) ?? .cdm,
                    target: row["target"],
                    engines: (row["engines"] as String).split(separator: ",").compactMap { Engine(rawValue: String($0)) },
                    cached: row["cached"], rounds: row["rounds"],
                    flags: (row["flags"] as String).split(separator: ",").map(String.init))
            }
        }
    }

    /// The run with `id`, samples included; throws `.runNotFound`.
    public static func load(_ id: Int64, in store: Store) throws -> BenchRun {
        let loaded: (String, [Row])? = try store.read { db in
            guard let json = try String.fetchOne(db.sqlite, sql: "SELECT run FROM bench_runs WHERE id = ?", arguments: [id])
            else { return nil }
            let samples = try Row.fetchAll(
                db.sqlite, sql: "SELECT * FROM bench_samples WHERE run_id = ? ORDER BY engine, workload, round, second", arguments: [id])
            return (json, samples)
        }
        guard let (json, rows) = loaded else { throw BenchError(.runNotFound, subject: "\(id)") }
        var run = try JSONDecoder().decode(BenchRun.self, from: Data(json.utf8))
        run.id = id
        for row in rows {
            let engine: String = row["engine"]
            let workload: String = row["workload"]
            let round: Int = row["round"]
            guard let index = run.results.firstIndex(where: {
                $0.engine.rawValue == engine && $0.workload.name == workload && ($0.round ?? 0) == round
            })
            else { continue }
            run.results[index].samples.append(Sample(
                second: row["second"], bytesPerSecond: row["bytes_per_second"], iops: row["iops"],
                p99: (row["p99_ns"] as Int64?).map { UInt64($0) }))
        }
        return run
    }
}
