import SystemPackage

/// How a ``Store`` opens and runs its SQLite database. Every field has a default that is safe for a
/// server shared by several processes; the CLI and the config file fill the fields, nothing is read
/// from the environment.
public struct StoreConfiguration: Sendable {
    /// How hard a commit is pushed to disk.
    public enum Synchronous: String, Sendable, CaseIterable {
        /// WAL + NORMAL: a commit survives `kill -9` of any process; after power loss the last commits
        /// before the crash may be rolled back, never corrupted.
        case normal
        /// WAL + FULL: every commit is flushed to disk before it returns and survives power loss.
        case full
    }

    /// Burg's data directory; the database is `<data dir>/data.db`.
    public var dataDirectory: FilePath
    /// Commit durability (default NORMAL; FULL survives power loss at the cost of one fsync per commit).
    public var synchronous: Synchronous = .normal
    /// How long one attempt waits for a lock held by another connection before it fails with
    /// SQLITE_BUSY and the whole write is retried (see ``retry``).
    public var busyTimeout: Duration = .seconds(5)
    /// When and how long failed writes are retried.
    public var retry: RetryPolicy = .default
    /// Page cache per connection, in KiB (`PRAGMA cache_size = -N`).
    public var cacheSizeKiB: Int = 8 * 1024
    /// WAL pages after which a commit runs a checkpoint itself (`PRAGMA wal_autocheckpoint`), holding
    /// the write lock while it copies pages and syncs the file. 0: commits never checkpoint, and the
    /// process must run ``StoreMaintenance``, whose PASSIVE checkpoints run beside the writers on a
    /// connection of their own (`burg serve` does this: a checkpoint's fsync then delays no request).
    public var autoCheckpointPages: Int = 1000
    /// Bytes of the database file mapped into memory (`PRAGMA mmap_size`); 0 disables mmap.
    public var mmapSize: Int = 128 << 20
    /// Size the WAL file is truncated to after a checkpoint (`PRAGMA journal_size_limit`), and the size
    /// above which maintenance runs a TRUNCATE checkpoint and health reports the WAL as degraded.
    public var walSizeLimit: Int = 64 << 20
    /// Number of concurrent read connections.
    public var maxReaders: Int = 8
    /// A read transaction lasting longer than this is logged with its statement (nil: never).
    public var slowReadThreshold: Duration? = .seconds(2)
    /// Create the data directory and the database when missing. `burg db ...` commands set this to
    /// false: inspecting a directory must not create one.
    public var createIfMissing: Bool = true
    /// Open WAL even on a network file system (NFS, SMB/CIFS), where SQLite's shared-memory locking is
    /// unreliable. Only for tests and for users who know their file system behaves locally.
    public var allowNetworkFileSystem: Bool = false
    /// Called with the SQL of every statement any connection runs, as SQLite expands it (tests count
    /// the queries an operation issues with it). Nil, the default, costs nothing.
    public var statementObserver: (@Sendable (String) -> Void)?

    public init(dataDirectory: FilePath) {
        self.dataDirectory = dataDirectory
    }

    /// `<data dir>/data.db`
    public var databasePath: FilePath { dataDirectory.appending(Self.databaseFileName) }
    /// `<data dir>/data.db-wal`
    public var walPath: FilePath { FilePath(databasePath.string + "-wal") }
    /// `<data dir>/data.db-shm`
    public var shmPath: FilePath { FilePath(databasePath.string + "-shm") }

    public static let databaseFileName = "data.db"
}
