internal import GRDB
import SystemPackage

/// Facts about a store's database that cost nothing to gather: sizes, modes, versions. `burg db info`
/// prints them.
public struct StoreInfo: Sendable, Equatable, Codable {
    public var path: String
    public var databaseBytes: Int64
    public var walBytes: Int64
    public var pageSize: Int
    public var pageCount: Int
    public var freelistPages: Int
    public var journalMode: String
    /// The writer connection's `PRAGMA synchronous` (1 NORMAL, 2 FULL).
    public var synchronous: Int
    public var sqliteVersion: String
    public var schema: SchemaVersion
    public var fileSystem: String?
    public var fileSystemAvailableBytes: UInt64?
    public var fileSystemTotalBytes: UInt64?
}

extension Store {
    /// Sizes, modes and versions of the database.
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func info() throws(StoreError) -> StoreInfo {
        do {
            let synchronous = try pool.writeWithoutTransaction { db in
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            }
            return try pool.read { db in
                StoreInfo(
                    path: path.string,
                    databaseBytes: fileSize(path) ?? 0,
                    walBytes: fileSize(configuration.walPath) ?? 0,
                    pageSize: try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0,
                    pageCount: try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0,
                    freelistPages: try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0,
                    journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?",
                    synchronous: synchronous,
                    sqliteVersion: try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "?",
                    schema: try SchemaVersion.read(db, migrations: migrations),
                    fileSystem: fileSystem?.typeName,
                    fileSystemAvailableBytes: fileSystem?.availableBytes,
                    fileSystemTotalBytes: fileSystem?.totalBytes)
            }
        } catch {
            throw storeError(error)
        }
    }
}
