import ArgumentParser

/// Micro-benchmarks of Burg's building blocks. Each subcommand prints one JSON line; the scripts in
/// Benchmarks/ run them beside a named peer (Python filelock/portalocker, Python sqlite3) and print ratios.
@main
struct MicroBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burg-microbench",
        abstract: "Micro-benchmarks of Burg's building blocks (see Benchmarks/*.sh and docs/PERFORMANCE.md).",
        subcommands: [LockBench.self, AtomicWriteBench.self, UpdateWorker.self, StoreBench.self, BackupBench.self, JobsBench.self, RecordsBench.self, FanoutBench.self]
    )
}
