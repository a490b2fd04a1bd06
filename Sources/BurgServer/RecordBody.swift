import BurgRecords
import Foundation
import Hummingbird
import SystemPackage

/// What a create or update sends: field values from a JSON body, or from a `multipart/form-data`
/// body together with files — as PocketBase's SDKs send them.
///
/// Multipart text values are read by the field's type (`"12"` for a number is 12, `"true"`/`"on"` for a
/// bool, JSON text for a json field, repeated names for multi-valued fields); `@jsonPayload` parts (the
/// JavaScript SDK's) are merged as JSON. File fields take PocketBase's modifiers: files under `name`
/// replace the field's files, under `name+` they are added, and `name-` lists stored names to remove.
struct RecordBody {
    var values: [String: JSONValue] = [:]
    var files: [String: [FileUpload]] = [:]
    /// `name` (replace) and `name-` (remove), resolved by BurgRecords.
    var modifiers = FileModifiers()
    private var form: MultipartForm?

    static func read(
        _ request: Request, context: BurgRequestContext, collection: CollectionModel, dataDirectory: FilePath, limit: Int
    ) async throws -> RecordBody {
        guard let boundary = MultipartForm.boundary(of: request.headers[.contentType]) else {
            return RecordBody(json: try await request.jsonObject(context: context), collection: collection)
        }
        let form = try await MultipartForm.read(
            request, boundary: boundary, dataDirectory: dataDirectory, limit: limit, collection: collection.name
        ) { name in
            let field = collection.field(named: name.hasSuffix("+") ? String(name.dropLast()) : name)
            return field?.type == .file ? field?.maxSize : nil
        }
        var body = RecordBody()
        body.form = form
        do {
            for payload in form.values["@jsonPayload"] ?? [] {
                guard case .object(let object) = try JSONValue.parse(payload) else {
                    throw APIError(.badRequest, "@jsonPayload must be a JSON object.")
                }
                for (key, value) in object { body.set(key, value, collection) }
            }
            for (name, texts) in form.values where name != "@jsonPayload" {
                body.set(name, Self.value(of: texts, for: collection.field(named: Self.fieldName(name))), collection)
            }
            for (name, uploads) in form.files {
                let field = Self.fieldName(name)
                guard collection.field(named: field)?.type == .file else {
                    throw RecordValidationError(collection: collection.name, fields: [name: FieldError("validation_unknown_field", "Not a file field.")])
                }
                body.files[field, default: []] += uploads
                if !name.hasSuffix("+") { body.modifiers.replacing.insert(field) }
            }
        } catch {
            form.removeSpooledFiles()
            throw error
        }
        return body
    }

    /// The body of a JSON request, already parsed.
    init(json object: [String: JSONValue], collection: CollectionModel) {
        for (key, value) in object { set(key, value, collection) }
    }

    private init() {}

    /// Deletes the spooled uploads; call when the request is done, whatever its outcome.
    func cleanUp() {
        form?.removeSpooledFiles()
    }

    /// Resolves the file modifiers against the record as it is (for an update): removals and
    /// replacements become the list of stored names to keep.
    mutating func resolveFiles(existing: RecordModel, collection: CollectionModel) {
        values = modifiers.resolve(values, existing: existing, collection: collection)
    }

    /// `tags+` → `tags`.
    private static func fieldName(_ name: String) -> String {
        name.hasSuffix("+") || name.hasSuffix("-") ? String(name.dropLast()) : name
    }

    private mutating func set(_ key: String, _ value: JSONValue, _ collection: CollectionModel) {
        if !modifiers.takeRemoval(key, value, in: collection) { values[key] = value }
    }

    /// A form value read by its field's type; unknown names stay text (the validator reports them).
    static func value(of texts: [String], for field: Field?) -> JSONValue {
        let last = texts.last ?? ""
        guard let field else { return .string(last) }
        if field.isMultiple {
            return .array(texts.filter { !$0.isEmpty }.map(JSONValue.string))
        }
        switch field.type {
        case .number:
            if last.isEmpty { return .null }
            return Double(last.trimmingCharacters(in: .whitespaces)).map(JSONValue.number) ?? .string(last)
        case .bool:
            switch last.lowercased() {
            case "true", "1", "on", "yes": return .bool(true)
            case "false", "0", "off", "no", "": return .bool(false)
            default: return .string(last)
            }
        case .json, .geoPoint:
            if last.isEmpty { return .null }
            return (try? JSONValue.parse(last)) ?? .string(last)
        default:
            return .string(last)
        }
    }
}
