internal import GRDB

/// Resolves filter and sort paths of one collection to SQL, from its schema only: system fields, its
/// fields, and single-relation paths (`customer.name`) through the related collection's table.
public struct CollectionFields: FilterFieldResolver {
    public let collection: CollectionModel
    /// Every collection, to follow relations (by lower-cased name).
    let collections: [String: CollectionModel]
    /// Whether hidden fields (an auth record's password hash and token key) may be named. Off by default:
    /// a filter that could name them would let a client probe a hash character by character.
    public let includeHidden: Bool
    /// Whose filter this resolves: a client sees emails only where they are visible to it (see ``FilterViewer``).
    public var viewer: FilterViewer = .administrator

    public init(_ collection: CollectionModel, all: [CollectionModel], includeHidden: Bool = false) {
        self.collection = collection
        self.collections = Dictionary(all.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        self.includeHidden = includeHidden
    }

    /// The same resolver for a filter or sort sent by `viewer`.
    public func seen(by viewer: FilterViewer) -> CollectionFields {
        var copy = self
        copy.viewer = viewer
        return copy
    }

    /// The resolver for `collection`, reading the other collections only when a relation could lead
    /// to them (most list requests need none).
    static func reading(_ db: Database, _ collection: CollectionModel, includeHidden: Bool = false) throws -> CollectionFields {
        let related = collection.fields.contains { $0.type == .relation }
        return CollectionFields(collection, all: related ? try CollectionRegistry.all(db) : [collection], includeHidden: includeHidden)
    }

    public var knownFields: [String] { CollectionModel.systemFields + collection.fields.filter { includeHidden || !$0.hidden }.map(\.name) }

    public func resolve(_ path: [String]) -> ResolvedFilterField? {
        resolve(path[...], in: collection, table: quoteIdentifier(collection.name), depth: 0)
    }

    private func resolve(_ path: ArraySlice<String>, in collection: CollectionModel, table: String, depth: Int) -> ResolvedFilterField? {
        guard let name = path.first, depth < 4 else { return nil }
        if CollectionModel.systemFields.contains(name) {
            return path.count == 1 ? ResolvedFilterField(sql: "\(table).\(quoteIdentifier(name))", kind: name == "id" ? .text : .date) : nil
        }
        guard let field = collection.field(named: name), includeHidden || !field.hidden else { return nil }
        var column = "\(table).\(quoteIdentifier(field.name))"
        if case .client(let authId) = viewer, collection.type == .auth, field.name == "email" {
            // Only the caller's own email and those their owners made visible; others compare as NULL,
            // exactly as if the field were empty to this caller. The id is a quoted literal (quotes
            // doubled): the resolver's SQL carries no arguments.
            let me = "'" + authId.replacingOccurrences(of: "'", with: "''") + "'"
            column = "(CASE WHEN \(table).\"emailVisibility\" = 1 OR \(table).\"id\" = \(me) THEN \(column) END)"
            guard path.count == 1 else { return nil }
            return ResolvedFilterField(sql: column, kind: .text)
        }
        if path.count == 1 {
            // Only the listed collection's own fields use its search index (a relation path is a subquery).
            let search = depth == 0 && field.searchable && field.type == .text
                ? ResolvedFilterField.Search(table: SearchIndex.table(collection), column: field.name, rowid: "\(table).\"rowid\"")
                : nil
            return ResolvedFilterField(sql: column, kind: Self.kind(field), isMultiple: field.isMultiple, search: search)
        }
        // A path continues only through a single relation.
        guard field.type == .relation, !field.isMultiple, let target = field.collection.flatMap({ collections[$0.lowercased()] }) else {
            return nil
        }
        // Administrators' records are out of a client's reach, even to compare against.
        if case .client = viewer, target.system, target.type == .auth { return nil }
        let alias = quoteIdentifier("r\(depth + 1)")
        guard let inner = resolve(path.dropFirst(), in: target, table: alias, depth: depth + 1), !inner.isMultiple else { return nil }
        return ResolvedFilterField(
            sql: "(SELECT \(inner.sql) FROM \(quoteIdentifier(target.name)) AS \(alias) WHERE \(alias).\"id\" = \(column))",
            kind: inner.kind)
    }

    static func kind(_ field: Field) -> ResolvedFilterField.Kind {
        switch field.type {
        case .number: .number
        case .bool: .bool
        case .date, .autodate: .date
        case .json, .geoPoint: .json
        default: .text
        }
    }
}
