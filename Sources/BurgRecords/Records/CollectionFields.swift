import GRDB

/// Resolves filter and sort paths of one collection to SQL, from its schema only: system fields, its
/// fields, and single-relation paths (`customer.name`) through the related collection's table.
public struct CollectionFields: FilterFieldResolver {
    public let collection: Collection
    /// Every collection, to follow relations (by lower-cased name).
    let collections: [String: Collection]
    /// Whether hidden fields (an auth record's password hash and token key) may be named. Off by default:
    /// a filter that could name them would let a client probe a hash character by character.
    public let includeHidden: Bool

    public init(_ collection: Collection, all: [Collection], includeHidden: Bool = false) {
        self.collection = collection
        self.collections = Dictionary(all.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        self.includeHidden = includeHidden
    }

    /// The resolver for `collection`, reading the other collections only when a relation could lead
    /// to them (most list requests need none).
    static func reading(_ db: Database, _ collection: Collection, includeHidden: Bool = false) throws -> CollectionFields {
        let related = collection.fields.contains { $0.type == .relation }
        return CollectionFields(collection, all: related ? try CollectionRegistry.all(db) : [collection], includeHidden: includeHidden)
    }

    public var knownFields: [String] { Collection.systemFields + collection.fields.filter { includeHidden || !$0.hidden }.map(\.name) }

    public func resolve(_ path: [String]) -> ResolvedFilterField? {
        resolve(path[...], in: collection, table: quoteIdentifier(collection.name), depth: 0)
    }

    private func resolve(_ path: ArraySlice<String>, in collection: Collection, table: String, depth: Int) -> ResolvedFilterField? {
        guard let name = path.first, depth < 4 else { return nil }
        if Collection.systemFields.contains(name) {
            return path.count == 1 ? ResolvedFilterField(sql: "\(table).\(quoteIdentifier(name))", kind: name == "id" ? .text : .date) : nil
        }
        guard let field = collection.field(named: name), includeHidden || !field.hidden else { return nil }
        let column = "\(table).\(quoteIdentifier(field.name))"
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
        case .date: .date
        case .json: .json
        default: .text
        }
    }
}
