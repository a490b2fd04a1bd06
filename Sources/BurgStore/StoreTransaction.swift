import Foundation
package import GRDB

/// What a ``Store`` read or write closure is given: one connection, inside the store's transaction
/// (a read snapshot, or `BEGIN IMMEDIATE` for writes; none for ``Store/writeWithoutTransaction(_:)``).
/// It is Burg's own type so that no API between modules names the storage library: a caller above
/// BurgStore passes it on (``SQLDialect`` says which SQL it speaks) and runs statements through it.
///
/// Each module's storage files (its `…Storage`/store files) reach the SQLite connection itself through
/// ``sqlite``, visible inside this package only; those files alone import GRDB. A second engine
/// (PostgreSQL) adds its connection here, and a storage file asks ``dialect`` which one it holds.
///
/// Valid only during the closure it was handed to; it is not `Sendable` and must not escape.
public struct StoreTransaction {
    /// The connection, for storage files that speak SQLite through GRDB.
    package let sqlite: Database

    /// The SQL this transaction speaks.
    public var dialect: SQLDialect { .sqlite }

    package init(_ sqlite: Database) {
        self.sqlite = sqlite
    }

    /// Runs one or more statements that return no rows (`;`-separated when `arguments` is empty).
    public func execute(sql: String, arguments: [SQLValue] = []) throws {
        try sqlite.execute(sql: sql, arguments: StatementArguments(arguments))
    }

    /// The first column of every row a query returns.
    public func column(sql: String, arguments: [SQLValue] = []) throws -> [SQLValue] {
        try DatabaseValue.fetchAll(sqlite, sql: sql, arguments: StatementArguments(arguments))
            .map(SQLValue.init)
    }

    /// Whether a table of this name exists.
    public func tableExists(_ name: String) throws -> Bool {
        try sqlite.tableExists(name)
    }

    /// Whether the connection is inside a transaction (always, except in
    /// ``Store/writeWithoutTransaction(_:)`` between the closure's own `BEGIN` and `COMMIT`).
    public var isInsideTransaction: Bool { sqlite.isInsideTransaction }
}

/// One SQL value, as statements take and return it, independent of the storage engine.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let value): value.databaseValue
        case .real(let value): value.databaseValue
        case .text(let value): value.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let value): self = .integer(value)
        case .double(let value): self = .real(value)
        case .string(let value): self = .text(value)
        case .blob(let data): self = .blob(Array(data))
        }
    }

    /// The value as an integer, when it is one.
    public var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    /// The value as text, when it is text.
    public var text: String? { if case .text(let value) = self { value } else { nil } }
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByFloatLiteral,
    ExpressibleByNilLiteral, ExpressibleByBooleanLiteral
{
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .integer(value ? 1 : 0) }
}

extension StatementArguments {
    /// Engine-neutral values as GRDB's arguments, for storage files.
    package init(_ values: [SQLValue]) {
        self.init(values.map(\.databaseValue))
    }
}
