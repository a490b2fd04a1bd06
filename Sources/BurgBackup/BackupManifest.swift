import Foundation

/// `manifest.json` inside every archive: what made it, when, what the database held, and the SHA-256
/// of every other entry. Verification trusts nothing else in the archive.
public struct BackupManifest: Codable, Sendable, Equatable {
    public static let currentFormat = 1
    public static let entryName = "manifest.json"
    public static let databaseEntry = "data.db"

    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var size: Int64
        public var sha256: String
    }

    public var format: Int
    public var burgVersion: String
    /// Migrations applied to the database, in order: the schema version.
    public var migrations: [String]
    public var createdAt: String
    /// Rows per collection at snapshot time.
    public var collections: [String: Int]
    public var entries: [Entry]

    public var totalSize: Int64 { entries.reduce(0) { $0 + $1.size } }
}
