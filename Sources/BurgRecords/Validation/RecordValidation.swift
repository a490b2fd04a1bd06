import Foundation

/// One field's validation failure, with PocketBase's stable code: `validation_required`, ...
public struct FieldError: Error, Sendable, Equatable, Codable {
    public var code: String
    public var message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Every field error of a record at once (never only the first), keyed by field name.
public struct RecordValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var collection: String
    public var fields: [String: FieldError]

    public init(collection: String, fields: [String: FieldError]) {
        self.collection = collection
        self.fields = fields
    }

    public var description: String {
        "record of collection \"\(collection)\" is invalid: "
            + fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.message) (\($0.value.code))" }.joined(separator: "; ")
    }
}

/// Checks a record's values against its collection and turns them into column values.
public struct RecordValidator: Sendable {
    /// What a key that names no field of the collection gets.
    public enum UnknownKeys: Sendable {
        /// A `validation_unknown_field` error (imports: a misspelled column is a mistake to report).
        case refuse
        /// Nothing: it is dropped, as PocketBase's API does, so that a record fetched and saved back —
        /// carrying `collectionId`, `collectionName`, `expand` or a field since removed — is accepted.
        case ignore
    }

    public let collection: CollectionModel
    public var unknownKeys: UnknownKeys

    public init(_ collection: CollectionModel, unknownKeys: UnknownKeys = .refuse) {
        self.collection = collection
        self.unknownKeys = unknownKeys
    }

    /// Validates `values` (a key that names no field as ``unknownKeys`` says) and returns the column
    /// values to store.
    /// `existing` is the stored record for an update: absent keys keep their stored value.
    public func validate(_ values: [String: JSONValue], existing: [String: JSONValue]? = nil) throws(RecordValidationError) -> [String: ColumnValue] {
        let columns = try columns(values, existing: existing)
        var byName: [String: ColumnValue] = [:]
        for (field, column) in zip(collection.fields, columns) {
            if let column { byName[field.name] = column }
        }
        return byName
    }

    /// The same check, with the column values in the order of the collection's fields (nil: a hidden
    /// field an update leaves alone) — the form bulk inserts bind without a dictionary per row.
    func columns(_ values: [String: JSONValue], existing: [String: JSONValue]? = nil) throws(RecordValidationError) -> [ColumnValue?] {
        var errors: [String: FieldError] = [:]
        var columns: [ColumnValue?] = []
        columns.reserveCapacity(collection.fields.count)
        var known = 0
        lazy var now = FilterSQL.formatDate(Date())
        for field in collection.fields {
            // An update that leaves a hidden field (a password hash) alone keeps it: the stored record
            // passed in as `existing` never carries hidden values.
            if field.hidden, existing != nil, values[field.name] == nil {
                columns.append(nil)
                continue
            }
            let given = values[field.name]
            if given != nil { known += 1 }
            if field.type == .autodate {
                // Set by the store, never by the client: now when it applies, else what it held.
                let applies = existing == nil ? field.onCreate : field.onUpdate
                if applies { columns.append(.text(now)) } else if case .string(let held)? = existing?[field.name] {
                    columns.append(.text(held))
                } else {
                    columns.append(.text(""))
                }
                continue
            }
            var value = given ?? existing?[field.name] ?? .null
            if existing == nil, let generated = field.autogeneratePattern, value == .null || value == .string("") {
                // Checked when the collection was stored, so it parses.
                value = (try? AutogeneratePattern(generated)).map { .string($0.generate()) } ?? value
            }
            switch check(field, value) {
            case .success(let column): columns.append(column)
            case .failure(let error):
                columns.append(nil)
                errors[field.name] = error
            }
        }
        if known < values.count && unknownKeys == .refuse {
            for key in values.keys where collection.field(named: key) == nil && !CollectionModel.systemFields.contains(key) {
                errors[key] = FieldError("validation_unknown_field", "Unknown field.")
            }
        }
        if !errors.isEmpty { throw RecordValidationError(collection: collection.name, fields: errors) }
        return columns
    }

    /// A value as stored in SQLite.
    public enum ColumnValue: Sendable, Equatable {
        case text(String)
        case real(Double)
        case integer(Int64)
        case null
    }

    /// A number as text: whole numbers without a fraction (`12`, not `12.0`). Only those well inside
    /// `Int64` go through it; larger ones (a client may send 1e300) keep Swift's own form.
    static func plain(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    private func isBlank(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .string(let s): s.isEmpty
        case .array(let a): a.isEmpty
        case .number(let n): n == 0
        case .bool(let b): !b
        case .object(let o): o.isEmpty
        }
    }

    func check(_ field: Field, _ value: JSONValue) -> Result<ColumnValue, FieldError> {
        if field.required && isBlank(value) { return .failure(FieldError("validation_required", "Cannot be blank.")) }
        if field.isMultiple { return checkMultiple(field, value) }
        switch field.type {
        case .text, .email, .url, .date, .select, .relation, .file, .editor, .autodate:
            let text: String
            switch value {
            case .null: text = ""
            case .string(let s): text = s
            case .number(let n) where field.type == .text: text = Self.plain(n)
            default: return .failure(FieldError("validation_invalid_value", "Must be a string."))
            }
            if text.isEmpty { return .success(.text("")) }
            return checkText(field, text).map { .text($0) }
        case .number:
            let number: Double
            switch value {
            case .null: number = 0
            case .number(let n): number = n
            case .string(let s) where Double(s) != nil: number = Double(s)!
            default: return .failure(FieldError("validation_invalid_number", "Must be a number."))
            }
            guard number.isFinite else { return .failure(FieldError("validation_invalid_number", "Must be a finite number.")) }
            if field.onlyInt && number.rounded() != number { return .failure(FieldError("validation_only_int_constraint", "Must be an integer.")) }
            if let min = field.min, number < min { return .failure(FieldError("validation_min_number_constraint", "Must be larger than \(min).")) }
            if let max = field.max, number > max { return .failure(FieldError("validation_max_number_constraint", "Must be less than \(max).")) }
            return .success(.real(number))
        case .bool:
            switch value {
            case .null: return .success(.integer(0))
            case .bool(let b): return .success(.integer(b ? 1 : 0))
            case .string("true"), .string("1"): return .success(.integer(1))
            case .string("false"), .string("0"), .string(""): return .success(.integer(0))
            default: return .failure(FieldError("validation_invalid_bool", "Must be true or false."))
            }
        case .json:
            if case .null = value { return .success(.null) }
            if let maxSize = field.maxSize, value.jsonText.utf8.count > maxSize {
                return .failure(FieldError("validation_json_size_limit", "The maximum allowed JSON size is \(maxSize) bytes."))
            }
            return .success(.text(value.jsonText))
        case .geoPoint:
            return checkGeoPoint(value)
        }
    }

    /// `{"lon": …, "lat": …}` in degrees (both needed; other keys refused); null: the origin, as PocketBase.
    private func checkGeoPoint(_ value: JSONValue) -> Result<ColumnValue, FieldError> {
        let invalid = FieldError("validation_invalid_geo_point", "Must be {\"lon\": -180…180, \"lat\": -90…90}.")
        var point = value
        if case .string(let text) = value {
            guard !text.isEmpty else { return .success(.text(#"{"lon":0,"lat":0}"#)) }
            guard let parsed = try? JSONValue.parse(text) else { return .failure(invalid) }
            point = parsed
        }
        switch point {
        case .null: return .success(.text(#"{"lon":0,"lat":0}"#))
        case .object(let object):
            guard object.count == 2, case .number(let lon)? = object["lon"], case .number(let lat)? = object["lat"],
                  (-180...180).contains(lon), (-90...90).contains(lat)
            else { return .failure(invalid) }
            return .success(.text(JSONValue.object(["lon": .number(lon), "lat": .number(lat)]).jsonText))
        default: return .failure(invalid)
        }
    }

    private func checkText(_ field: Field, _ text: String) -> Result<String, FieldError> {
        switch field.type {
        case .text:
            // Characters never outnumber UTF-8 bytes: most texts are decided without counting graphemes.
            if let min = field.min, Double(text.utf8.count) < min || Double(text.count) < min {
                return .failure(FieldError("validation_min_text_constraint", "Must be at least \(Self.plain(min)) character(s)."))
            }
            if let max = field.max, Double(text.utf8.count) > max && Double(text.count) > max {
                return .failure(FieldError("validation_max_text_constraint", "Must be no more than \(Self.plain(max)) character(s)."))
            }
            if let pattern = field.pattern, let regex = try? NSRegularExpression(pattern: pattern),
               regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                return .failure(FieldError("validation_invalid_format", "Invalid value format."))
            }
        case .email:
            let bytes = text.utf8
            let at = bytes.firstIndex(of: UInt8(ascii: "@"))
            let domain = at.map { bytes[bytes.index(after: $0)...] }
            guard let at, let domain, at != bytes.startIndex, !domain.contains(UInt8(ascii: "@")), domain.contains(UInt8(ascii: ".")),
                  domain.first != UInt8(ascii: "."), domain.last != UInt8(ascii: "."), bytes.count <= 254,
                  !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }),
                  bytes.allSatisfy({ $0 < 0x80 }) || !text.unicodeScalars.contains(where: \.properties.isWhitespace)
            else { return .failure(FieldError("validation_invalid_email", "Must be a valid email address.")) }
            if let refusal = checkDomain(field, String(decoding: domain, as: UTF8.self)) { return .failure(refusal) }
        case .url:
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), let host = url.host
            else { return .failure(FieldError("validation_invalid_url", "Must be a valid url.")) }
            if let refusal = checkDomain(field, host) { return .failure(refusal) }
        case .date:
            guard let normalised = Self.normaliseDate(text) else {
                return .failure(FieldError("validation_invalid_date", "Must be a valid date (YYYY-MM-DD HH:MM:SS.sssZ)."))
            }
            // The stored form sorts as the dates do, so bounds compare as text.
            if let bound = field.dateMin.flatMap(Self.normaliseDate), normalised < bound {
                return .failure(FieldError("validation_min_date_constraint", "Must be no earlier than \(bound)."))
            }
            if let bound = field.dateMax.flatMap(Self.normaliseDate), normalised > bound {
                return .failure(FieldError("validation_max_date_constraint", "Must be no later than \(bound)."))
            }
            return .success(normalised)
        case .editor:
            if let maxSize = field.maxSize, text.utf8.count > maxSize {
                return .failure(FieldError("validation_max_text_constraint", "Must be no more than \(maxSize) bytes."))
            }
        case .select:
            guard field.values?.contains(text) == true else {
                return .failure(FieldError("validation_invalid_value", "Invalid value \(text)."))
            }
        case .relation:
            guard RecordID.isValid(text) else { return .failure(FieldError("validation_invalid_value", "Invalid record id \(text).")) }
        case .file:
            guard FileStorage.isValidStoredName(text) else { return .failure(FieldError("validation_invalid_value", "Invalid file name \(text).")) }
        default: break
        }
        return .success(text)
    }

    /// An email's or URL's domain against the field's `onlyDomains` / `exceptDomains` (a subdomain
    /// counts as its domain, case ignored), with PocketBase's codes.
    private func checkDomain(_ field: Field, _ domain: String) -> FieldError? {
        let domain = domain.lowercased()
        func within(_ listed: String) -> Bool {
            let listed = listed.lowercased()
            return domain == listed || domain.hasSuffix("." + listed)
        }
        let code = field.type == .url ? "validation_url_domain_not_allowed" : "validation_email_domain_not_allowed"
        if let only = field.onlyDomains, !only.contains(where: within) { return FieldError(code, "Domain not allowed: \(domain).") }
        if let except = field.exceptDomains, except.contains(where: within) { return FieldError(code, "Domain not allowed: \(domain).") }
        return nil
    }

    private func checkMultiple(_ field: Field, _ value: JSONValue) -> Result<ColumnValue, FieldError> {
        let items: [JSONValue]
        switch value {
        case .null: items = []
        case .array(let array): items = array
        case .string(let s): items = s.isEmpty ? [] : [.string(s)]
        default: return .failure(FieldError("validation_invalid_value", "Must be a list of values."))
        }
        if let maxSelect = field.maxSelect, items.count > maxSelect {
            return .failure(FieldError("validation_too_many_values", "Select no more than \(maxSelect)."))
        }
        if let minSelect = field.minSelect, !items.isEmpty || field.required, items.count < minSelect {
            return .failure(FieldError("validation_not_enough_values", "Select at least \(minSelect)."))
        }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else { return .failure(FieldError("validation_invalid_value", "Values must be strings.")) }
            switch checkText(field, text) {
            case .success(let checked): if !strings.contains(checked) { strings.append(checked) }
            case .failure(let error): return .failure(error)
            }
        }
        return .success(.text(JSONValue.array(strings.map { .string($0) }).jsonText))
    }

    /// Accepts `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS[.sss][Z]` and the same with `T` (ISO 8601, UTC); returns
    /// the stored form `YYYY-MM-DD HH:MM:SS.sssZ`, or nil for anything else (including impossible dates
    /// such as February 30th). Parsed by hand: imports validate millions of dates.
    static func normaliseDate(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + digits] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += digits
            return value
        }
        func expect(_ character: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == character else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2) else { return nil }
        var hour = 0, minute = 0, second = 0, millisecond = 0
        func isReal() -> Bool {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            return (1...12).contains(month) && (1...days[month - 1]).contains(day) && hour < 24 && minute < 60 && second < 60
        }
        if index < bytes.count {
            guard expect(32) || expect(84), let h = number(2), expect(58), let m = number(2), expect(58), let s = number(2) else { return nil }
            (hour, minute, second) = (h, m, s)
            if expect(46) {
                let start = index
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
                guard index > start else { return nil }
                let fraction = bytes[start..<min(index, start + 3)].reduce(0) { $0 * 10 + Int($1 - 48) }
                millisecond = fraction * [100, 10, 1][min(index, start + 3) - start - 1]
            }
            var offsetMinutes = 0
            if !expect(90), index < bytes.count {  // Z, or an offset: +HH:MM / -HHMM
                let sign = bytes[index] == 45 ? -1 : 1
                guard expect(43) || expect(45), let h = number(2) else { return nil }
                _ = expect(58)
                guard let m = number(2), h < 24, m < 60 else { return nil }
                offsetMinutes = sign * (h * 60 + m)
            }
            guard index == bytes.count else { return nil }
            if offsetMinutes != 0 {
                var parts = tm()
                (parts.tm_year, parts.tm_mon, parts.tm_mday) = (Int32(year - 1900), Int32(month - 1), Int32(day))
                (parts.tm_hour, parts.tm_min, parts.tm_sec) = (Int32(hour), Int32(minute), Int32(second))
                let utc = Double(timegm(&parts)) - Double(offsetMinutes * 60) + Double(millisecond) / 1000
                guard isReal() else { return nil }
                return FilterSQL.formatDate(Date(timeIntervalSince1970: utc))
            }
        }
        guard isReal() else { return nil }
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(millisecond, 3))Z"
    }
}
