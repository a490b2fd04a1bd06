import BurgCore
import Foundation
internal import GRDB
import Logging
import SystemPackage
import Synchronization

/// Burg's SQLite database: `<data dir>/data.db`, shared safely by any number of threads and processes
/// (server, job workers, CLI commands).
///
/// Guarantees:
/// - **Writes never fail because another connection holds a lock.** Each write runs in `BEGIN
///   IMMEDIATE`; when it meets SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT or SQLITE_LOCKED the transaction is
///   rolled back and the *whole closure* runs again (see ``RetryPolicy``) until the retry deadline.
///   Other errors (constraints, I/O, corruption) are thrown at once as ``StoreError``.
/// - After a write returns, its transaction is committed: it survives `kill -9` of any process, and
///   with ``StoreConfiguration/Synchronous/full`` also power loss.
/// - Reads see one consistent snapshot, run concurrently with each other and with writes.
/// - A file that is not a SQLite database, a truncated database, or one migrated by a newer Burg is
///   refused with a ``StoreError`` naming the path, and left untouched.
///
/// **A write closure can run more than once.** It must do nothing outside the database that it would
/// be wrong to do twice — no HTTP calls, no messages, no file writes, no mutation of captured state
/// that survives a failed attempt. Compute such effects from the closure's result after it returns.
public final class Store: Sendable {
    public let configuration: StoreConfiguration
    public let migrations: StoreMigrations
    /// The file system holding the data directory (for health reports).
    public let fileSystem: FileSystemInfo?
    let pool: DatabasePool
    /// Signalled after each transaction ``write(_:)`` or a grouped write commits, so an in-process reader of what was
    /// written (the realtime broker) can look at once instead of at its next poll. Writes of other
    /// processes do not signal here: such a reader still polls.
    public let commits = CommitSignal()
    /// The connection PASSIVE checkpoints run on, opened at the first one: apart from the writer, so a
    /// checkpoint (copying pages, syncing the file) never holds up this process's writes.
    let checkpointer = Mutex<DatabaseQueue?>(nil)
    let recorder = StatisticsRecorder()
    /// The queue of ``groupedWrite(_:)`` callers.
    let writeGroup = WriteGroup()
    let busyHandler: BusyHandler
    let logger: Logger

    /// The database file.
    public var path: FilePath { configuration.databasePath }

    /// Opens (creating it if ``StoreConfiguration/createIfMissing``) the database and applies pending
    /// migrations. Throws ``StoreError`` when the database cannot be used safely; nothing is changed then.
    public init(
        _ configuration: StoreConfiguration, migrations: StoreMigrations = .store,
        logger: Logger = Logger(label: "burg.store")
    ) throws(StoreError) {
        self.configuration = configuration
        self.migrations = migrations
        self.logger = logger
        let path = configuration.databasePath

        if configuration.createIfMissing {
            do {
                try DataDirectory.prepare(configuration.dataDirectory)
            } catch {
                let code: StoreError.Code =
                    switch error.code {
                    case .permissionDenied, .readOnlyFileSystem: .readOnly
                    case .noSpace: .diskFull
                    default: .io
                    }
                throw StoreError(code, path: path, message: error.description)
            }
        }

        // WAL keeps its index in a memory-mapped -shm file and coordinates through byte-range locks;
        // neither works across the machines of a network file system.
        let fileSystem = try? FileSystemInfo.of(configuration.dataDirectory)
        self.fileSystem = fileSystem
        if let fileSystem {
            try Self.refuseNetworkFileSystem(
                typeName: fileSystem.typeName, isNetwork: fileSystem.isNetwork, configuration: configuration)
        }

        let outcome = try DatabaseFileCheck.check(path, walPath: configuration.walPath)
        if outcome == .absent && !configuration.createIfMissing {
            throw StoreError(.missing, path: path)
        }

        if outcome == .plausible {
            try Self.retryingWhileLocked(configuration) { () throws(StoreError) in
                try Self.preflight(configuration, migrations: migrations)
            }
        }

        busyHandler = BusyHandler(timeout: configuration.busyTimeout)
        var grdb = Configuration()
        grdb.label = "burg.store"
        grdb.foreignKeysEnabled = true
        grdb.maximumReaderCount = max(1, configuration.maxReaders)
        grdb.busyMode = .callback { [busyHandler] tries in busyHandler.shouldRetry(tries: tries) }
        let cacheKiB = configuration.cacheSizeKiB
        let mmapSize = configuration.mmapSize
        let journalLimit = configuration.walSizeLimit
        let autoCheckpoint = max(0, configuration.autoCheckpointPages)
        let observer = configuration.statementObserver
        grdb.prepareDatabase { db in
            Self.observeStatements(db, observer)
            try db.execute(sql: """
                PRAGMA wal_autocheckpoint = \(autoCheckpoint);
                PRAGMA cache_size = -\(cacheKiB);
                PRAGMA temp_store = MEMORY;
                PRAGMA mmap_size = \(mmapSize);
                PRAGMA journal_size_limit = \(journalLimit);
                """)
        }
        // Opening meets locks too (another process converting a new database to WAL, or migrating it).
        pool = try Self.retryingWhileLocked(configuration) { () throws(StoreError) in
            do {
                let pool = try DatabasePool(path: path.string, configuration: grdb)
                // GRDB sets synchronous = NORMAL on the writer after prepareDatabase; FULL is set here.
                if configuration.synchronous == .full {
                    try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
                }
                return pool
            } catch let error as DatabaseError {
                throw StoreError(error, path: path)
            } catch {
                throw StoreError(.io, path: path, message: "\(error)")
            }
        }
        try Self.retryingWhileLocked(configuration) { () throws(StoreError) in try migrate() }
    }

    /// Runs a step of opening again while it fails with `.busy`, with the write retry's backoff and
    /// deadline. Each step is idempotent.
    private static func retryingWhileLocked<T>(
        _ configuration: StoreConfiguration, _ step: () throws(StoreError) -> T
    ) throws(StoreError) -> T {
        let start = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try step()
            } catch where error.code == .busy && ContinuousClock.now - start < configuration.retry.deadline {
                sleepBlocking(configuration.retry.backoff(beforeRetry: attempt - 1))
            }
        }
    }

    // MARK: - Writes

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction and commits it, retrying the whole closure on
    /// SQLITE_BUSY / SQLITE_BUSY_SNAPSHOT / SQLITE_LOCKED. Blocks the calling thread.
    ///
    /// `body` may run several times: see the type's documentation for what it must not do.
    /// Errors: ``StoreError`` for SQLite errors (`.busy` when the retry deadline passed, `.constraint`...);
    /// an error `body` throws itself is rethrown unchanged, after rolling back.
    @available(*, noasync, message: "blocks its thread: use the async overload, or run it on the blocking pool")
    public func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try retrying(sleep: { duration in Self.sleepBlocking(duration) }) {
            try pool.writeWithoutTransaction { db in try immediateTransaction(db, body) }
        }
    }

    /// Async variant of ``write(_:)``: the closure runs on the store's writer thread and backoffs sleep
    /// without blocking a thread.
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        var attempt = 0
        let start = ContinuousClock.now
        while true {
            attempt += 1
            do {
                return try await pool.writeWithoutTransaction { db in try self.immediateTransaction(db, body) }
            } catch {
                let backoff = try retryDecision(error, attempt: attempt, start: start)
                try await Task.sleep(for: backoff)
            }
        }
    }

    /// Runs `body` on the writer connection without opening a transaction: `body` manages its own
    /// (`VACUUM` and some `PRAGMA`s must run outside one), with the same retry as ``write(_:)``. A
    /// transaction `body` leaves open after an error is rolled back.
    @available(*, noasync, message: "blocks its thread: use the async overload, or run it on the blocking pool")
    public func writeWithoutTransaction<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try retrying(sleep: { duration in Self.sleepBlocking(duration) }) {
            try pool.writeWithoutTransaction { db in
                do {
                    return try body(StoreTransaction(db))
                } catch {
                    if db.isInsideTransaction { try? db.rollback() }
                    throw error
                }
            }
        }
    }

    /// Runs one attempt after another until one succeeds or ``retryDecision(_:attempt:start:)`` throws.
    func retrying<T>(sleep: (Duration) -> Void, _ attemptBody: () throws -> T) throws -> T {
        var attempt = 0
        let start = ContinuousClock.now
        while true {
            attempt += 1
            do {
                return try attemptBody()
            } catch {
                sleep(try retryDecision(error, attempt: attempt, start: start))
            }
        }
    }

    /// For a failed attempt: the backoff before the next one, or the error to throw.
    private func retryDecision(_ error: any Error, attempt: Int, start: ContinuousClock.Instant) throws -> Duration {
        guard let databaseError = error as? DatabaseError else {
            recorder.recordFailedWrite()
            throw error
        }
        let waited = ContinuousClock.now - start
        guard StoreError.isRetryable(databaseError), waited < configuration.retry.deadline else {
            recorder.recordFailedWrite()
            throw StoreError(databaseError, path: path, attempts: attempt, waited: waited)
        }
        recorder.recordRetry(code: databaseError.extendedResultCode.rawValue)
        let backoff = configuration.retry.backoff(beforeRetry: attempt - 1)
        let remaining = configuration.retry.deadline - waited
        return min(backoff, remaining)
    }

    /// `BEGIN IMMEDIATE` takes the write lock before the closure reads anything, so that no other
    /// connection can commit between this transaction's reads and its writes: SQLITE_BUSY_SNAPSHOT
    /// cannot happen, and a lock wait happens at BEGIN where nothing is lost by waiting.
    private func immediateTransaction<T>(_ db: Database, _ body: (StoreTransaction) throws -> T) throws -> T {
        let asked = ContinuousClock.now
        var locked = asked
        var bodyDone = asked
        var result: T?
        try db.inTransaction(.immediate) {
            locked = ContinuousClock.now
            result = try body(StoreTransaction(db))
            bodyDone = ContinuousClock.now
            return .commit
        }
        let committed = ContinuousClock.now
        recorder.recordWrite(lockWait: locked - asked, transaction: committed - locked, commit: committed - bodyDone)
        commits.signal()
        return result!
    }

    static func sleepBlocking(_ duration: Duration) {
        let microseconds = duration.nanoseconds / 1000
        if microseconds > 0 { usleep(UInt32(clamping: microseconds)) }
    }

    // MARK: - Reads

    /// Runs `body` in a read transaction on one of the pool's reader connections: a consistent snapshot,
    /// concurrent with other reads and with writes. A read that lasts longer than
    /// ``StoreConfiguration/slowReadThreshold`` is logged with its slowest statement.
    @available(*, noasync, message: "blocks its thread: use the async overload, or run it on the blocking pool")
    public func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        let start = ContinuousClock.now
        do {
            return try pool.read { db in try observedRead(db, start: start, body) }
        } catch let error as DatabaseError {
            throw StoreError(error, path: path)
        }
    }

    /// Async variant of ``read(_:)``.
    public func read<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            return try await pool.read { db in try self.observedRead(db, start: start, body) }
        } catch let error as DatabaseError {
            throw StoreError(error, path: path)
        }
    }

    /// Runs a read closure inside its transaction, timing it and, when a slow-read threshold is set,
    /// profiling its statements so that a slow one can be named.
    private func observedRead<T>(
        _ db: Database, start: ContinuousClock.Instant, _ body: (StoreTransaction) throws -> T
    ) throws -> T {
        guard let threshold = configuration.slowReadThreshold else {
            let result = try body(StoreTransaction(db))
            recorder.recordRead(duration: ContinuousClock.now - start)
            return result
        }
        let slowest = SlowestStatement()
        let observer = configuration.statementObserver
        db.trace(options: .profile) { event in
            slowest.observe(event)
            if let observer, case .profile(let statement, _) = event { observer(statement.expandedSQL) }
        }
        defer { Self.observeStatements(db, observer) }
        let result = try body(StoreTransaction(db))
        let duration = ContinuousClock.now - start
        recorder.recordRead(duration: duration)
        if duration > threshold { logSlowRead(duration: duration, slowest: slowest) }
        return result
    }

    /// Installs ``StoreConfiguration/statementObserver`` on a connection, or no trace without one.
    private static func observeStatements(_ db: Database, _ observer: (@Sendable (String) -> Void)?) {
        guard let observer else { db.trace(options: []); return }
        db.trace(options: .statement) { event in
            if case .statement(let statement) = event { observer(statement.expandedSQL) }
        }
    }

    private func logSlowRead(duration: Duration, slowest: SlowestStatement) {
        logger.warning(
            "slow read transaction: it held a snapshot for \(formatDuration(duration)), which keeps checkpoints from shrinking the WAL",
            metadata: [
                "database": "\(path)",
                "statement": "\(slowest.sql ?? "none took over 1 ms: the time went to the caller's code between statements")",
                "statementDuration": "\(slowest.sql == nil ? "-" : formatDuration(slowest.duration))",
            ])
    }

    // MARK: - Facts

    /// A consistent snapshot of this store's counters and latencies (this process only).
    public var statistics: StoreStatistics { recorder.snapshot(busyWaits: busyHandler.busyWaits) }

    /// Where the schema stands: migrations applied, pending, unknown.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func schemaVersion() throws(StoreError) -> SchemaVersion {
        do {
            return try pool.read { db in try SchemaVersion.read(db, migrations: migrations) }
        } catch {
            throw storeError(error)
        }
    }

    func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? DatabaseError { return StoreError(error, path: path) }
        return StoreError(.io, path: path, message: "\(error)")
    }

    // MARK: - Migrations

    /// Applies pending migrations, one process at a time (GRDB's migrator reads the applied list outside
    /// its transactions, so two processes migrating at once could both run a migration).
    private func migrate() throws(StoreError) {
        var version = try schemaVersion()
        try refuseNewer(version)
        guard !version.pending.isEmpty else { return }
        do {
            let lock = try FileLock(guarding: path)
            try lock.withLockBlocking(.exclusive, timeout: configuration.retry.deadline) {
                version = try schemaVersion()
                try refuseNewer(version)
                guard !version.pending.isEmpty else { return }
                try migrations.migrator.migrate(pool)
                try write { db in
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO _burg_meta (key, value) VALUES ('migrated_by', ?)",
                        arguments: [.text(BurgVersion.current)])
                }
                logger.info(
                    "migrated database", metadata: ["database": "\(path)", "applied": "\(version.pending)"])
            }
        } catch let error as LockError {
            throw StoreError(.io, path: path, message: error.description)
        } catch {
            throw storeError(error)
        }
    }

    static func refuseNetworkFileSystem(
        typeName: String, isNetwork: Bool, configuration: StoreConfiguration
    ) throws(StoreError) {
        guard isNetwork, !configuration.allowNetworkFileSystem else { return }
        throw StoreError(
            .networkFileSystem, path: configuration.databasePath,
            detail: "\(configuration.dataDirectory) is on \(typeName)")
    }

    /// Reads the schema of an existing database with a plain connection, before the pool's writer sets up
    /// WAL (which writes): a damaged schema or one from a newer Burg is refused with nothing written.
    private static func preflight(_ configuration: StoreConfiguration, migrations: StoreMigrations) throws(StoreError) {
        let path = configuration.databasePath
        do {
            var grdb = Configuration()
            grdb.busyMode = .timeout(configuration.busyTimeout.seconds)
            let connection = try DatabaseQueue(path: path.string, configuration: grdb)
            defer { try? connection.close() }
            let version = try connection.read { db in try SchemaVersion.read(db, migrations: migrations) }
            try refuseNewer(version, path: path)
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError(error, path: path)
        } catch {
            throw StoreError(.io, path: path, message: "\(error)")
        }
    }

    private func refuseNewer(_ version: SchemaVersion) throws(StoreError) {
        try Self.refuseNewer(version, path: path)
    }

    private static func refuseNewer(_ version: SchemaVersion, path: FilePath) throws(StoreError) {
        guard version.unknown.isEmpty else {
            throw StoreError(
                .newerSchema, path: path,
                detail: "it has migrations this Burg (\(BurgVersion.current)) does not know: "
                    + version.unknown.joined(separator: ", ")
                    + (version.migratedBy.map { "; last migrated by Burg \($0)" } ?? ""))
        }
    }
}

/// The slowest statement of one read transaction, filled by SQLite's profile trace. Only statements
/// over 1 ms have their SQL copied, so fast reads pay for a comparison, not a string.
private final class SlowestStatement {
    var sql: String?
    var duration: Duration = .zero

    func observe(_ event: Database.TraceEvent) {
        guard case let .profile(statement, seconds) = event else { return }
        let duration = Duration.nanoseconds(Int64(seconds * 1e9))
        guard duration > .milliseconds(1), duration > self.duration else { return }
        self.duration = duration
        sql = statement.sql
    }
}
