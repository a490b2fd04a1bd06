import ArgumentParser
import BurgBench
import BurgRecords
import BurgStore
import SystemPackage

/// The store flags of `burg serve` (shown by `burg serve --help`); each fills a field of
/// ``StoreConfiguration`` or ``StoreMaintenance/Configuration``, and an omitted flag keeps the default.
struct StoreOptions: ParsableArguments {
    private static let defaults = StoreConfiguration(dataDirectory: ".")
    private static let maintenanceDefaults = StoreMaintenance.Configuration()

    @Option(help: ArgumentHelp(
        "Commit durability: normal (survives kill -9; the last commits may roll back on power loss) or full (fsync each commit; survives power loss).",
        valueName: "normal|full"))
    var synchronous: StoreConfiguration.Synchronous = defaults.synchronous

    @Option(help: ArgumentHelp("How long one write attempt waits for another process's lock before it is retried.", valueName: "seconds"))
    var busyTimeout: Double = defaults.busyTimeout.seconds

    @Option(help: ArgumentHelp("How long a write keeps retrying before it fails with 'busy'.", valueName: "seconds"))
    var retryDeadline: Double = defaults.retry.deadline.seconds

    @Option(help: ArgumentHelp("Page cache per connection.", valueName: "KiB"))
    var cacheSize: Int = defaults.cacheSizeKiB

    @Option(help: ArgumentHelp("Bytes of the database mapped into memory (0: no mmap).", valueName: "bytes"))
    var mmapSize: Int = defaults.mmapSize

    @Option(help: ArgumentHelp("WAL size above which it is truncated after a checkpoint and health reports 'degraded'.", valueName: "bytes"))
    var walSizeLimit: Int = defaults.walSizeLimit

    @Option(help: ArgumentHelp("Concurrent read connections.", valueName: "n"))
    var maxReaders: Int = defaults.maxReaders

    @Option(help: ArgumentHelp("Log read transactions that last longer than this (0: never).", valueName: "seconds"))
    var slowRead: Double = defaults.slowReadThreshold?.seconds ?? 0

    @Option(help: ArgumentHelp("Interval of the background PASSIVE checkpoint.", valueName: "seconds"))
    var checkpointInterval: Double = maintenanceDefaults.checkpointInterval.seconds

    @Option(help: ArgumentHelp("Interval of the background PRAGMA optimize.", valueName: "seconds"))
    var optimizeInterval: Double = maintenanceDefaults.optimizeInterval.seconds

    @Flag(help: "Open the database even on a network file system (NFS, SMB): unsafe, see docs/OPERATIONS.md.")
    var allowNetworkFileSystem = false

    func configuration(dataDirectory: FilePath) -> StoreConfiguration {
        var configuration = StoreConfiguration(dataDirectory: dataDirectory)
        configuration.synchronous = synchronous
        configuration.busyTimeout = .seconds(busyTimeout)
        configuration.retry.deadline = .seconds(retryDeadline)
        configuration.cacheSizeKiB = cacheSize
        configuration.mmapSize = mmapSize
        configuration.walSizeLimit = walSizeLimit
        configuration.maxReaders = maxReaders
        configuration.slowReadThreshold = slowRead > 0 ? .seconds(slowRead) : nil
        configuration.allowNetworkFileSystem = allowNetworkFileSystem
        return configuration
    }

    var maintenance: StoreMaintenance.Configuration {
        var maintenance = StoreMaintenance.Configuration()
        maintenance.checkpointInterval = .seconds(checkpointInterval)
        maintenance.optimizeInterval = .seconds(optimizeInterval)
        return maintenance
    }

    func validate() throws {
        guard busyTimeout >= 0, retryDeadline >= 0, checkpointInterval > 0, optimizeInterval > 0 else {
            throw ValidationError("durations must be positive")
        }
        guard maxReaders >= 1 else { throw ValidationError("--max-readers must be at least 1") }
    }
}

/// The migrations of a Burg database, in order. Each capability appends its own here when it arrives.
enum BurgSchema {
    static let migrations: StoreMigrations = .store + CollectionRegistry.migrations + BenchHistory.migrations
}

extension StoreConfiguration.Synchronous: ExpressibleByArgument {}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
