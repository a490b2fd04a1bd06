import Foundation

/// The SQL constructs that differ between storage engines, as one value the SQL-building code asks
/// instead of writing SQLite's spelling inline: ``FilterSQL`` (in BurgRecords) compiles filters through
/// it, and the storage files build upserts and `RETURNING` clauses with it. SQLite is the only dialect
/// today; the PostgreSQL engine adds its own spelling of each construct here.
public struct SQLDialect: Sendable, Equatable {
    public enum Engine: String, Sendable, Equatable { case sqlite }

    public let engine: Engine

    /// SQLite 3.38+ (the copy GRDB builds): `?` placeholders, `json_each`, FTS5 trigram `MATCH`,
    /// `ON CONFLICT … DO UPDATE`, `RETURNING`.
    public static let sqlite = SQLDialect(engine: .sqlite)

    /// The placeholder of the `index`-th value (0-based) of a statement's arguments.
    public func placeholder(_ index: Int) -> String {
        switch engine {
        case .sqlite: "?"
        }
    }

    /// `text` as a `LIKE` pattern that matches itself literally, for use with ``likeEscapeClause``.
    public func likeLiteral(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    /// What follows `LIKE <pattern>` so that ``likeLiteral(_:)``'s escapes hold.
    public var likeEscapeClause: String {
        switch engine {
        case .sqlite: "ESCAPE '\\'"
        }
    }

    /// A row source of the elements of the JSON array `arraySQL` (a column or a placeholder), one row
    /// each, the element in the column `"<alias>"."value"`.
    public func jsonArrayElements(_ arraySQL: String, alias: String) -> String {
        switch engine {
        case .sqlite: "json_each(\(arraySQL)) AS \"\(alias)\""
        }
    }

    /// A subquery of the elements of the JSON array bound to a placeholder, for `x IN (…)`.
    public func jsonArrayValues(_ placeholder: String) -> String {
        switch engine {
        case .sqlite: "SELECT value FROM json_each(\(placeholder))"
        }
    }

    /// A condition that keeps the rows whose `rowidSQL` a full-text index `table` matches for the query
    /// bound to `placeholder`; nil where the engine has no such index (the caller keeps its `LIKE`
    /// check alone, which decides the result either way).
    public func fullTextNarrowing(rowid rowidSQL: String, table: String, placeholder: String) -> String? {
        switch engine {
        case .sqlite: "\(rowidSQL) IN (SELECT rowid FROM \(table) WHERE \(table) MATCH \(placeholder))"
        }
    }

    /// The clause after `INSERT … VALUES (…)` that turns it into an upsert on `conflict` columns:
    /// `assignments` are `column = expression` pairs, where ``excluded(_:)`` names the inserted value.
    public func upsert(onConflict conflict: [String], set assignments: [String]) -> String {
        switch engine {
        case .sqlite: "ON CONFLICT (\(conflict.joined(separator: ", "))) DO UPDATE SET \(assignments.joined(separator: ", "))"
        }
    }

    /// The value an upsert tried to insert into `column`.
    public func excluded(_ column: String) -> String {
        switch engine {
        case .sqlite: "excluded.\(column)"
        }
    }

    /// The clause that makes an `INSERT`/`UPDATE`/`DELETE` return the rows it changed.
    public func returning(_ columns: String = "*") -> String {
        switch engine {
        case .sqlite: "RETURNING \(columns)"
        }
    }

    /// NULL-safe equality (`NULL = NULL` holds), which an index can still serve.
    public func isSame(_ left: String, _ right: String, negated: Bool = false) -> String {
        switch engine {
        case .sqlite: "(\(left) \(negated ? "IS NOT" : "IS") \(right))"
        }
    }
}
