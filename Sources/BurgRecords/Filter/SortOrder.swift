import Foundation

/// A parsed `sort` parameter: `-created,name` is `created` descending, then `name` ascending.
public struct SortOrder: Sendable, Equatable {
    public struct Term: Sendable, Equatable {
        public var path: [String]
        public var descending: Bool
    }

    public var terms: [Term]

    /// At most this many terms (SQLite refuses an ORDER BY past 2,000, and no listing needs more).
    public static let maxTerms = 32

    /// Parses `text`; unknown fields are refused (never silently ignored), and so is a sort longer than
    /// ``FilterExpression/maxLength`` characters or with more than ``maxTerms`` terms.
    public init(_ text: String, fields: some FilterFieldResolver) throws(FilterError) {
        terms = []
        guard text.utf8.count <= FilterParser.maxLength else {
            throw FilterError(.invalidSort, position: FilterParser.maxLength,
                message: "longer than \(FilterParser.maxLength) characters", text: text)
        }
        var position = 1
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            defer { position += raw.count + 1 }
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            let leading = raw.prefix { $0 == " " }.count
            if trimmed.isEmpty {
                if text.trimmingCharacters(in: .whitespaces).isEmpty { return }
                throw FilterError(.invalidSort, position: position + leading, message: "empty sort term", text: text)
            }
            let descending = trimmed.hasPrefix("-")
            let name = descending || trimmed.hasPrefix("+") ? String(trimmed.dropFirst()) : trimmed
            let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard fields.resolve(path) != nil else {
                throw FilterError(.invalidSort, position: position + leading,
                    message: "unknown sort field \"\(name)\" (known: \(fields.knownFields.prefix(20).joined(separator: ", ")))",
                    text: text)
            }
            guard terms.count < Self.maxTerms else {
                throw FilterError(.invalidSort, position: position + leading, message: "more than \(Self.maxTerms) sort terms", text: text)
            }
            terms.append(Term(path: path, descending: descending))
        }
    }

    /// `"t"."created" DESC, "t"."name" ASC`, or nil when there are no terms.
    public func sql(fields: some FilterFieldResolver) -> String? {
        guard !terms.isEmpty else { return nil }
        return terms.compactMap { term in
            fields.resolve(term.path).map { "\($0.sql) \(term.descending ? "DESC" : "ASC")" }
        }.joined(separator: ", ")
    }
}
