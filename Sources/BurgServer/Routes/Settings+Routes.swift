import BurgRecords
import BurgStore
import Hummingbird

/// `GET`/`PATCH /api/settings` for superusers (a guest 401, anyone else 403): PocketBase's settings
/// object in its key order, secrets never included. A `PATCH` merges the sections it holds
/// (``RuntimeSettings/update(_:in:)``) and answers the whole object as it is now in force.
struct SettingsRoutes: Sendable {
    let store: Store
    let auth: RequestAuth
    let settings: RuntimeSettings

    func add(to router: Router<BurgRequestContext>) {
        router.get("api/settings") { request, context -> Response in
            _ = try await auth.requireSuperuser(request, context, forbidden: .notAllowed)
            return Self.answer(settings.current)
        }
        router.patch("api/settings") { request, context -> Response in
            _ = try await auth.requireSuperuser(request, context, forbidden: .notAllowed)
            let patch = try await Self.body(request, context)
            return Self.answer(try await settings.update(patch, in: store))
        }
    }

    static func answer(_ settings: AppSettings) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: settings.json(secrets: false).jsonText)))
    }

    /// The JSON object of the body; anything else is PocketBase's 400 "An error occurred while loading
    /// the submitted data.".
    static func body(_ request: Request, _ context: BurgRequestContext) async throws -> [String: JSONValue] {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        if buffer.readableBytes == 0 { return [:] }
        guard case .object(let object)? = try? JSONValue.parse(String(buffer: buffer)) else {
            throw APIError(.badRequest, "An error occurred while loading the submitted data.")
        }
        return object
    }
}
