import BurgAuth
import BurgRecords
import Foundation
import Hummingbird

/// `POST /api/batch`: PocketBase's transactional batch. `{"requests": [{"method", "url", "body"}]}`
/// with record creates (`POST …/records`), updates (`PATCH …/records/{id}`), deletes (`DELETE …`) and
/// upserts (`PUT …/records`, by `body.id`), each under the caller's access rules, in one transaction:
/// the answer lists `{"status", "body"}` per request, or — any item failing — nothing is written and
/// the 400 names the item with its own error (`data.requests.<index>`), as PocketBase reports it.
/// The `batch` settings in force at each request decide: off (or `maxRequests` 0) is PocketBase's 403,
/// at most `maxRequests` items, a body of at most `maxBodySize` bytes (0: the API's 32 MiB) else 413.
struct BatchRoutes: Sendable {
    let records: RecordsRoutes
    let auth: RequestAuth
    let settings: RuntimeSettings

    func add(to router: Router<BurgRequestContext>) {
        router.post("api/batch") { request, context in try await run(request, context) }
    }

    /// One parsed item: the operation, and the query its answer is shaped by (`fields`, `expand`).
    struct Item {
        var operation: RecordBatchOperation
        var query: [String: String]
    }

    func run(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let batch = settings.current.batch
        guard batch.enabled, batch.maxRequests > 0 else { throw APIError(.forbidden, "Batch requests are not allowed.") }
        let maxRequests = batch.maxRequests
        let bodyLimit = batch.maxBodySize > 0 ? min(batch.maxBodySize, BurgRequestContext.maxBodySize) : BurgRequestContext.maxBodySize
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > bodyLimit {
            throw APIError(.contentTooLarge, "Request entity too large.")
        }
        let identity = try await auth.identity(request, context)
        var body: [String: JSONValue]
        if let boundary = MultipartForm.boundary(of: request.headers[.contentType]) {
            // PocketBase's SDKs send a batch as multipart: the requests in `@jsonPayload`, files as
            // `requests.<index>.<field>` parts, which Burg does not take in a batch yet.
            let form = try await MultipartForm.read(request, boundary: boundary, dataDirectory: records.store.configuration.dataDirectory,
                                                    limit: bodyLimit, collection: "batch") { _ in nil }
            defer { form.removeSpooledFiles() }
            guard form.files.isEmpty else {
                throw APIError(.badRequest, "Batch requests with files are not supported yet; upload each file with a request of its own.",
                               data: ["requests": FieldError("validation_unsupported", "Files cannot be sent in a batch yet.")])
            }
            body = ["@jsonPayload": form.values["@jsonPayload"]?.first.map(JSONValue.string) ?? .null]
        } else {
            body = try await request.jsonObject(context: context, limit: bodyLimit)
        }
        // The Python SDK sends the multipart form's fields as JSON when there are no files.
        if case .string(let payload)? = body["@jsonPayload"] {
            guard case .object(let object) = try JSONValue.parse(payload) else {
                throw APIError(.badRequest, "Invalid batch request data.", data: ["@jsonPayload": FieldError("validation_invalid_value", "Must be a JSON object.")])
            }
            body = object
        }
        let items: [JSONValue]
        switch body["requests"] {
        case .array(let array)? where !array.isEmpty: items = array
        case nil, .null?, .array?:
            throw APIError(.badRequest, "Invalid batch request data.", data: ["requests": FieldError("validation_required", "Cannot be blank.")])
        default:
            throw APIError(.badRequest, "Invalid batch request data.", data: ["requests": FieldError("validation_invalid_value", "Must be a list of requests.")])
        }
        guard items.count <= maxRequests else {
            throw APIError(.badRequest, "Invalid batch request data.",
                           data: ["requests": FieldError("validation_length_too_long", "The length must be no more than \(maxRequests).")])
        }
        var parsed: [Item] = []
        for (index, item) in items.enumerated() {
            guard let operation = Self.parse(item) else {
                throw Self.failed(index, APIError(.badRequest, "Something went wrong while processing your request."))
            }
            parsed.append(operation)
        }
        let caller = RecordCaller(identity)
        let store = records.audited(identity, context, fields: [])
        let results: [RecordBatchResult]
        do {
            results = try await store.batch(parsed.map(\.operation)) { action, collection, values in
                try AccessPolicy.decide(action, on: collection, for: caller.with(body: values)).required(in: collection)
            }
        } catch let error as RecordBatchError {
            throw Self.failed(error.index, APIError.from(error.underlying, logger: context.logger))
        }
        var answers: [JSONValue] = []
        for (item, result) in zip(parsed, results) {
            guard let record = result.record else {
                answers.append(.object(["status": 204, "body": .null]))
                continue
            }
            let shaped = try await records.shape([record], result.collection, caller, item.query)[0]
            answers.append(.object(["status": 200, "body": shaped]))
        }
        return .json(.array(answers))
    }

    /// PocketBase's answer for a failed item: 400 "Batch transaction failed." with the item's own
    /// answer under `data.requests.<index>.response`.
    static func failed(_ index: Int, _ answer: APIError) -> APIError {
        var error = APIError(.badRequest, "Batch transaction failed.")
        error.nestedData["requests"] = .object([String(index): .object([
            "code": "batch_request_failed", "message": "Batch request failed.", "response": answer.json,
        ])])
        return error
    }

    /// `{"method", "url", "body"}` as an operation on `/api/collections/{c}/records[/{id}]`; nil for any
    /// other route or method (PocketBase's batch writes records only).
    static func parse(_ item: JSONValue) -> Item? {
        guard case .object(let object) = item, case .string(let method)? = object["method"], case .string(let url)? = object["url"],
              let components = URLComponents(string: url) else { return nil }
        var values: [String: JSONValue] = [:]
        switch object["body"] {
        case .object(let body)?: values = body
        case nil, .null?: break
        default: return nil
        }
        let parts = components.path.split(separator: "/", omittingEmptySubsequences: false).map { $0.removingPercentEncoding ?? String($0) }
        // "", "api", "collections", {c}, "records"[, {id}]
        guard parts.count == 5 || parts.count == 6, parts[0].isEmpty, parts[1] == "api", parts[2] == "collections",
              !parts[3].isEmpty, parts[4] == "records" else { return nil }
        let collection = parts[3]
        let id = parts.count == 6 ? parts[5] : nil
        var query: [String: String] = [:]
        for pair in components.queryItems ?? [] { query[pair.name] = pair.value ?? "" }
        let operation: RecordBatchOperation
        switch (method.uppercased(), id) {
        case ("POST", nil): operation = .create(collection: collection, values: values)
        case ("PUT", nil): operation = .upsert(collection: collection, values: values)
        case ("PATCH", let id?) where !id.isEmpty: operation = .update(collection: collection, id: id, values: values)
        case ("DELETE", let id?) where !id.isEmpty: operation = .delete(collection: collection, id: id)
        default: return nil
        }
        return Item(operation: operation, query: query)
    }
}
