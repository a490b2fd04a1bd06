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
    /// the config file's `store` object, else the default.
    func configuration(dataDirectory: FilePath, settings: BurgSettings) -> StoreConfiguration {
        let d = Self.defaults
        var configuration = StoreConfiguration(dataDirectory: dataDirectory)
        configuration.synchronous = synchronous
            ?? settings.string("store.synchronous").flatMap(StoreConfiguration.Synchronous.init(rawValue:)) ?? d.synchronous
        configuration.busyTimeout = .seconds(busyTimeout ?? settings.double("store.busyTimeout") ?? d.busyTimeout.seconds)
        configuration.retry.deadline = .seconds(retryDeadline ?? settings.double("store.retryDeadline") ?? d.retry.deadline.seconds)
        configuration.cacheSizeKiB = cacheSize ?? settings.int("store.cacheSize") ?? d.cacheSizeKiB
        configuration.mmapSize = mmapSize ?? settings.int("store.mmapSize") ?? d.mmapSize
        configuration.walSizeLimit = walSizeLimit ?? settings.int("store.walSizeLimit") ?? d.walSizeLimit
        configuration.maxReaders = maxReaders ?? settings.int("store.maxReaders") ?? d.maxReaders
        let slow = slowRead ?? settings.double("store.slowRead") ?? d.slowReadThreshold?.seconds ?? 0
        configuration.slowReadThreshold = slow > 0 ? .seconds(slow) : nil
        configuration.allowNetworkFileSystem = allowNetworkFileSystem || settings.bool("store.allowNetworkFileSystem") == true
        return configuration
    }

    func maintenance(settings: BurgSettings) -> StoreMaintenance.Configuration {
        var maintenance = StoreMaintenance.Configuration()
        maintenance.checkpointInterval = .seconds(
            checkpointInterval ?? settings.double("store.checkpointInterval") ?? Self.maintenanceDefaults.checkpointInterval.seconds)
        maintenance.optimizeInterval = .seconds(
            optimizeInterval ?? settings.double("store.optimizeInterval") ?? Self.maintenanceDefaults.optimizeInterval.seconds)
        return maintenance
    }

    func validate() throws {
        for value in [busyTimeout, retryDeadline].compactMap({ $0 }) where value < 0 {
            throw ValidationError("durations must not be negative")
        }
        for value in [checkpointInterval, optimizeInterval].compactMap({ $0 }) where value <= 0 {
            throw ValidationError("intervals must be positive")
        }
        if let maxReaders, maxReaders < 1 { throw ValidationError("--max-readers must be at least 1") }
    }
}

/// The migrations of a Burg database, in order. Each capability appends its own here when it arrives.
enum BurgSchema {
    static let migrations: StoreMigrations = .store + CollectionRegistry.migrations + BenchHistory.migrations + AuthSchema.migrations + BackupHistory.migrations + JobSchema.migrations
}

extension StoreConfiguration.Synchronous: ExpressibleByArgument {}


