import BurgJobs
import BurgBackup
import BurgAuth
import BurgCore
import ArgumentParser
import BurgBench
import BurgRecords
import BurgStore
import SystemPackage

/// The store flags of `burg serve` (shown by `burg serve --help`); each fills a field of
/// ``StoreConfiguration`` or ``StoreMaintenance/Configuration``. An omitted flag is taken from the
/// environment (`BURG_STORE_BUSY_TIMEOUT=…`), then from the config file (`{"store": {"busyTimeout": …}}`),
/// then the default.
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

    /// The store's configuration: each value from its flag, else `BURG_STORE_*` in the environment, else
    /// the config file's `store` object, else the default. A value from the environment or the file
    /// outside its range (see ``validate()``) is refused with exit 78.
    func configuration(dataDirectory: FilePath, settings: BurgSettings) throws -> StoreConfiguration {
        let d = Self.defaults
        let r = Self.ranges
        var configuration = StoreConfiguration(dataDirectory: dataDirectory)
        configuration.synchronous = synchronous
            ?? settings.string("store.synchronous").flatMap(StoreConfiguration.Synchronous.init(rawValue:)) ?? d.synchronous
        configuration.busyTimeout = .seconds(
            try busyTimeout ?? settings.double("store.busyTimeout").map { try OptionRange.setting($0, "store.busyTimeout", r.busyTimeout) }
                ?? d.busyTimeout.seconds)
        configuration.retry.deadline = .seconds(
            try retryDeadline ?? settings.double("store.retryDeadline").map { try OptionRange.setting($0, "store.retryDeadline", r.retryDeadline) }
                ?? d.retry.deadline.seconds)
        configuration.cacheSizeKiB = try cacheSize
            ?? settings.int("store.cacheSize").map { try OptionRange.setting($0, "store.cacheSize", r.cacheSize) } ?? d.cacheSizeKiB
        configuration.mmapSize = try mmapSize
            ?? settings.int("store.mmapSize").map { try OptionRange.setting($0, "store.mmapSize", r.bytes) } ?? d.mmapSize
        configuration.walSizeLimit = try walSizeLimit
            ?? settings.int("store.walSizeLimit").map { try OptionRange.setting($0, "store.walSizeLimit", r.bytes) } ?? d.walSizeLimit
        configuration.maxReaders = try maxReaders
            ?? settings.int("store.maxReaders").map { try OptionRange.setting($0, "store.maxReaders", r.maxReaders) } ?? d.maxReaders
        let slow = try slowRead
            ?? settings.double("store.slowRead").map { try OptionRange.setting($0, "store.slowRead", r.slowRead) }
            ?? d.slowReadThreshold?.seconds ?? 0
        configuration.slowReadThreshold = slow > 0 ? .seconds(slow) : nil
        configuration.allowNetworkFileSystem = allowNetworkFileSystem || settings.bool("store.allowNetworkFileSystem") == true
        return configuration
    }

    func maintenance(settings: BurgSettings) throws -> StoreMaintenance.Configuration {
        let r = Self.ranges
        var maintenance = StoreMaintenance.Configuration()
        maintenance.checkpointInterval = .seconds(
            try checkpointInterval
                ?? settings.double("store.checkpointInterval").map { try OptionRange.setting($0, "store.checkpointInterval", r.interval) }
                ?? Self.maintenanceDefaults.checkpointInterval.seconds)
        maintenance.optimizeInterval = .seconds(
            try optimizeInterval
                ?? settings.double("store.optimizeInterval").map { try OptionRange.setting($0, "store.optimizeInterval", r.interval) }
                ?? Self.maintenanceDefaults.optimizeInterval.seconds)
        return maintenance
    }

    /// What each store option accepts, for the flag and for its config value alike.
    private static let ranges = (
        busyTimeout: 0.0...3600, retryDeadline: 0.0...86_400, slowRead: 0.0...86_400, interval: 0.001...2_592_000,
        // KiB per connection (SQLite's cache_size in KiB is written as a negative page count): 1 TiB at most.
        cacheSize: 0...(1 << 30), bytes: 0...(1 << 50), maxReaders: 1...1024
    )

    func validate() throws {
        let r = Self.ranges
        try OptionRange.check(busyTimeout, "--busy-timeout", r.busyTimeout, "seconds")
        try OptionRange.check(retryDeadline, "--retry-deadline", r.retryDeadline, "seconds")
        try OptionRange.check(slowRead, "--slow-read", r.slowRead, "seconds")
        try OptionRange.check(checkpointInterval, "--checkpoint-interval", r.interval, "seconds")
        try OptionRange.check(optimizeInterval, "--optimize-interval", r.interval, "seconds")
        try OptionRange.check(cacheSize, "--cache-size", r.cacheSize, "KiB")
        try OptionRange.check(mmapSize, "--mmap-size", r.bytes, "bytes")
        try OptionRange.check(walSizeLimit, "--wal-size-limit", r.bytes, "bytes")
        try OptionRange.check(maxReaders, "--max-readers", r.maxReaders, "connections")
    }
}

/// The migrations of a Burg database, in order. Each capability appends its own here when it arrives.
enum BurgSchema {
    static let migrations: StoreMigrations = .store + CollectionRegistry.migrations + BenchHistory.migrations + AuthSchema.migrations + BackupHistory.migrations + JobSchema.migrations
}

extension StoreConfiguration.Synchronous: ExpressibleByArgument {}


