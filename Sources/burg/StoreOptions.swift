import BurgJobs
import BurgBackup
import BurgAuth
import BurgCore
import ArgumentParser
import BurgBench
import BurgRecords
import BurgServer
import BurgStore
import Configuration
import SystemPackage

/// The store flags of `burg serve` (shown by `burg serve --help`); each fills a field of
/// ``StoreConfiguration`` or ``StoreMaintenance/Configuration`` (see ``ServeSettings``). An omitted flag
/// is taken from the environment (`BURG_STORE_BUSY_TIMEOUT=…`), then from the config file
/// (`{"store": {"busyTimeout": …}}`), then the default.
struct StoreOptions: ParsableArguments {
    private static let defaults = StoreConfiguration(dataDirectory: ".")
    private static let maintenanceDefaults = StoreMaintenance.Configuration()

    @Option(help: ArgumentHelp(
        "Commit durability: normal (survives kill -9; the last commits may roll back on power loss) or full (fsync each commit; survives power loss). Default: \(defaults.synchronous.rawValue).",
        valueName: "normal|full"))
    var synchronous: StoreConfiguration.Synchronous?

    @Option(help: ArgumentHelp("How long one write attempt waits for another process's lock before it is retried. Default: \(defaults.busyTimeout.seconds).", valueName: "seconds"))
    var busyTimeout: Double?

    @Option(help: ArgumentHelp("How long a write keeps retrying before it fails with 'busy'. Default: \(defaults.retry.deadline.seconds).", valueName: "seconds"))
    var retryDeadline: Double?

    @Option(help: ArgumentHelp("Page cache per connection. Default: \(defaults.cacheSizeKiB).", valueName: "KiB"))
    var cacheSize: Int?

    @Option(help: ArgumentHelp("Bytes of the database mapped into memory (0: no mmap). Default: \(defaults.mmapSize).", valueName: "bytes"))
    var mmapSize: Int?

    @Option(help: ArgumentHelp("WAL size above which it is truncated after a checkpoint and health reports 'degraded'. Default: \(defaults.walSizeLimit).", valueName: "bytes"))
    var walSizeLimit: Int?

    @Option(help: ArgumentHelp("Concurrent read connections. Default: \(defaults.maxReaders).", valueName: "n"))
    var maxReaders: Int?

    @Option(help: ArgumentHelp("Log read transactions that last longer than this (0: never). Default: \(defaults.slowReadThreshold?.seconds ?? 0).", valueName: "seconds"))
    var slowRead: Double?

    @Option(help: ArgumentHelp("Interval of the background PASSIVE checkpoint. Default: \(maintenanceDefaults.checkpointInterval.seconds).", valueName: "seconds"))
    var checkpointInterval: Double?

    @Option(help: ArgumentHelp("Interval of the background PRAGMA optimize. Default: \(maintenanceDefaults.optimizeInterval.seconds).", valueName: "seconds"))
    var optimizeInterval: Double?

    @Flag(help: "Open the database even on a network file system (NFS, SMB): unsafe, see docs/OPERATIONS.md.")
    var allowNetworkFileSystem = false

    /// The flags given, by setting key (`store.busyTimeout`): the highest-priority source of
    /// ``BurgSettings``.
    var flagValues: [String: ConfigContent] {
        var values: [String: ConfigContent] = [:]
        values["store.synchronous"] = synchronous.map { .string($0.rawValue) }
        values["store.busyTimeout"] = busyTimeout.map { .double($0) }
        values["store.retryDeadline"] = retryDeadline.map { .double($0) }
        values["store.cacheSize"] = cacheSize.map { .int($0) }
        values["store.mmapSize"] = mmapSize.map { .int($0) }
        values["store.walSizeLimit"] = walSizeLimit.map { .int($0) }
        values["store.maxReaders"] = maxReaders.map { .int($0) }
        values["store.slowRead"] = slowRead.map { .double($0) }
        values["store.checkpointInterval"] = checkpointInterval.map { .double($0) }
        values["store.optimizeInterval"] = optimizeInterval.map { .double($0) }
        // A flag can only turn it on; without it the environment and the file decide.
        if allowNetworkFileSystem { values["store.allowNetworkFileSystem"] = .bool(true) }
        return values
    }

    func validate() throws {
        try SettingKey.checkFlags(flagValues)
    }
}

/// The migrations of a Burg database, in order. Each capability appends its own here when it arrives.
enum BurgSchema {
    static let migrations: StoreMigrations = .store + CollectionRegistry.migrations + BenchHistory.migrations + AuthSchema.migrations + BackupHistory.migrations + JobSchema.migrations + SettingsSchema.migrations
}

extension StoreConfiguration.Synchronous: ExpressibleByArgument {}


