import BurgAuth
import BurgCore
import BurgRecords
import Foundation
import Hummingbird

/// `/api/collections/{collection}/auth-with-password` (rate limited by the `*:auth` rule, on top of the
/// authenticator's lockout of an identity and of an address), and `/auth-refresh`, which draws from no
/// sign-in bucket (its action is `authRefresh`, not `auth`): it needs a valid token, costs no password
/// hash, and an app refreshing its users' sessions must not lock their colleagues behind the same
/// address out of signing in.
struct AuthRoutes: Sendable {
    let auth: RequestAuth
    let authenticator: Authenticator
    let records: RecordsRoutes

    func add(to router: Router<BurgRequestContext>) {
        let group = router.group("api/collections/:collection")
        group.post("auth-with-password") { request, context in try await signIn(request, context) }
        group.post("auth-refresh") { request, context in try await refresh(request, context) }
        group.get("auth-methods") { request, context in try await methods(request, context) }
    }

    /// PocketBase's `auth-methods` shape (with its legacy keys `authProviders`, `usernamePassword` and
    /// `emailPassword`, which older SDKs read); public, as in PocketBase.
    func methods(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let methods = try await authenticator.signInMethods(collection: try context.parameters.require("collection"))
        let fields = methods.passwordIdentityFields
        let off: JSONValue = .object(["enabled": false, "duration": 0])
        return .json(.object([
            "password": .object(["enabled": .bool(!fields.isEmpty), "identityFields": .array(fields.map(JSONValue.string))]),
            "oauth2": .object(["enabled": false, "providers": .array([])]),
            "mfa": off, "otp": off,
            "authProviders": .array([]),
            "usernamePassword": .bool(fields.contains("username")),
            "emailPassword": .bool(fields.contains("email")),
        ]))
    }

    func signIn(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let name = try context.parameters.require("collection")
        let body = try await request.jsonObject(context: context)
        var errors: [String: FieldError] = [:]
        var identity = ""
        var password = ""
        if case .string(let value)? = body["identity"], !value.isEmpty { identity = value } else {
            errors["identity"] = FieldError("validation_required", "Cannot be blank.")
        }
        if case .string(let value)? = body["password"], !value.isEmpty { password = value } else {
            errors["password"] = FieldError("validation_required", "Cannot be blank.")
        }
        if !errors.isEmpty { throw APIError(.badRequest, "Failed to authenticate.", data: errors) }
        let result = try await authenticator.authWithPassword(collection: name, identity: identity, password: password, clientIP: context.clientIP)
        return answer(result)
    }

    func refresh(_ request: Request, _ context: BurgRequestContext) async throws -> Response {
        let name = try context.parameters.require("collection")
        guard let identity = try await auth.identity(request, context) else {
            throw APIError(.unauthorized, "The request requires valid record authorization token.")
        }
        guard identity.collectionName.lowercased() == name.lowercased() || identity.collectionId == name else {
            throw APIError(.forbidden, "The authorized record is not from this collection.")
        }
        return answer(try await authenticator.refresh(identity))
    }

    private func answer(_ result: AuthResult) -> Response {
        .json(.object(["token": .string(result.token), "record": result.record.json]))
    }
}
