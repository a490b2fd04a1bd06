internal import GRDB

/// The table changes that turn collection `old` into `new`, run inside the caller's transaction.
///
/// Fields are matched by id: same id and another name is a rename (`ALTER TABLE … RENAME COLUMN`, values
/// kept); a new id is an added column; a missing id is a dropped column. A type or multiplicity change
/// rebuilds the table (new table, copy converting values, drop, rename). Data loss is refused unless
/// forced: dropping a column that holds non-empty values, or a rebuild that would change any value.
struct SchemaMigration {
    var old: CollectionModel
    var new: CollectionModel
    var force: Bool

    func apply(_ db: Database) throws {
        let table = quoteIdentifier(old.name)
        let oldByID = Dictionary(uniqueKeysWithValues: old.fields.map { ($0.id, $0) })
        let newIDs = Set(new.fields.map(\.id))

        // Drops: refused while the column holds anything but its empty default.
        for field in old.fields where !newIDs.contains(field.id) && !force {
            let column = quoteIdentifier(field.name)
            let empty = field.isMultiple ? "'[]'" : Self.emptyValue(field)
            let holding = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE \(column) IS NOT \(empty)") ?? 0
            if holding > 0 {
                throw SchemaError(.wouldLoseData, collection: old.name, field: field.name,
                    message: "dropping it would lose the values of \(holding) records; pass --force to drop them")
            }
        }
        let retyped = new.fields.filter { field in
            guard let before = oldByID[field.id] else { return false }
            return before.type != field.type || before.isMultiple != field.isMultiple
        }
        // The search index's triggers name columns; it is rebuilt for the new shape at the end.
        try SearchIndex.drop(db, old)
        try CollectionRegistry.dropIndexes(db, table: old.name)
        if retyped.isEmpty {
            for field in old.fields where !newIDs.contains(field.id) {
                try db.execute(sql: "ALTER TABLE \(table) DROP COLUMN \(quoteIdentifier(field.name))")
            }
            for field in new.fields {
                if let before = oldByID[field.id] {
                    if before.name != field.name {
                        try db.execute(sql: "ALTER TABLE \(table) RENAME COLUMN \(quoteIdentifier(before.name)) TO \(quoteIdentifier(field.name))")
                    }
                } else {
                    try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN \(field.columnDefinition)")
                }
            }
            if old.name != new.name {
                try db.execute(sql: "ALTER TABLE \(table) RENAME TO \(quoteIdentifier(new.name))")
            }
        } else {
            try rebuild(db, retyped: retyped, oldByID: oldByID)
        }
        try CollectionRegistry.createIndexes(db, new, table: new.name)
        try SearchIndex.create(db, new)
    }

    /// Copies every row into a table of the new shape, converting retyped values, and refuses (unless
    /// forced) when a conversion would change a value.
    private func rebuild(_ db: Database, retyped: [Field], oldByID: [String: Field]) throws {
        let staging = "_rebuild_\(new.id)"
        try CollectionRegistry.createTable(db, CollectionModel(name: new.name, fields: new.fields, id: new.id), as: staging)
        try CollectionRegistry.dropIndexes(db, table: staging)
        var targets = ["\"id\"", "\"created\"", "\"updated\""]
        var sources = ["\"id\"", "\"created\"", "\"updated\""]
        for field in new.fields {
            guard let before = oldByID[field.id] else { continue }
            targets.append(quoteIdentifier(field.name))
            sources.append(Self.conversion(from: before, to: field, column: quoteIdentifier(before.name)))
        }
        try db.execute(sql: """
            INSERT INTO \(quoteIdentifier(staging)) (\(targets.joined(separator: ", ")))
            SELECT \(sources.joined(separator: ", ")) FROM \(quoteIdentifier(old.name))
            """)
        if !force {
            for field in retyped {
                let before = oldByID[field.id]!
                // A value survives when converting it back gives the old value again.
                let back = Self.conversion(from: field, to: before, column: "n.\(quoteIdentifier(field.name))")
                let changed = try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM \(quoteIdentifier(old.name)) AS o JOIN \(quoteIdentifier(staging)) AS n USING ("id")
                    WHERE o.\(quoteIdentifier(before.name)) IS NOT \(back)
                    """) ?? 0
                if changed > 0 {
                    throw SchemaError(.wouldLoseData, collection: old.name, field: field.name,
                        message: "changing \(before.type) to \(field.type) would change the values of \(changed) records; pass --force to convert them anyway")
                }
            }
        }
        try db.execute(sql: "DROP TABLE \(quoteIdentifier(old.name))")
        try db.execute(sql: "ALTER TABLE \(quoteIdentifier(staging)) RENAME TO \(quoteIdentifier(new.name))")
    }

    /// SQL converting `column`, stored as field `old`, to the storage of field `new`.
    static func conversion(from old: Field, to new: Field, column: String) -> String {
        if old.isMultiple && !new.isMultiple { return "COALESCE(json_extract(\(column), '$[0]'), '')" }
        if !old.isMultiple && new.isMultiple {
            return "CASE WHEN \(column) IS NULL OR \(column) = '' THEN '[]' ELSE json_array(\(column)) END"
        }
        switch new.type {
        case .number: return "COALESCE(CAST(\(column) AS REAL), 0)"
        case .bool: return "CASE WHEN \(column) IN (1, '1', 'true') THEN 1 ELSE 0 END"
        case .json: return "CASE WHEN json_valid(\(column)) THEN \(column) ELSE json_quote(\(column)) END"
        case .geoPoint:
            // Only a stored point survives a retype; anything else becomes the origin.
            return "CASE WHEN json_valid(\(column)) AND json_type(\(column), '$.lon') IN ('integer', 'real') AND json_type(\(column), '$.lat') IN ('integer', 'real') THEN \(column) ELSE '{\"lon\":0,\"lat\":0}' END"
        default:
            return old.type == .number
                ? "CASE WHEN \(column) = CAST(\(column) AS INTEGER) THEN CAST(CAST(\(column) AS INTEGER) AS TEXT) ELSE CAST(\(column) AS TEXT) END"
                : "COALESCE(CAST(\(column) AS TEXT), '')"
        }
    }

    static func emptyValue(_ field: Field) -> String {
        switch field.type {
        case .number, .bool: "0"
        case .json: "NULL"
        case .geoPoint: "'{\"lon\":0,\"lat\":0}'"
        default: "''"
        }
    }
}
