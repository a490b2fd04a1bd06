import BurgAuth
import BurgRecords
import Foundation
import Hummingbird

/// Who is calling: the identity behind the request's `Authorization` token, or nil for a guest.
/// A token that is present but invalid (forged, expired, its password changed) is refused with 401
/// rather than silently treated as a guest.
struct RequestAuth: Sendable {
    let authenticator: Authenticator
    /// `superuserIPs`: when listed, a superuser's token is refused from any other client address.
    let settings: RuntimeSettings

    /// The caller, also noted in the context for the request log.
    func identity(_ request: Request, _ context: BurgRequestContext) async throws -> AuthIdentity? {
        guard let header = request.headers[.authorization], !header.isEmpty else { return nil }
        let identity = try await authenticator.verify(token: header)
        if identity.isSuperuser {
            let allowed = settings.snapshot.superuserRanges
            if !allowed.isEmpty, !allowed.contains(where: { $0.contains(context.clientIP) }) {
                throw APIError(.forbidden, "Accessing the API as a superuser is not allowed from this IP address.")
            }
        }
        context.log.setActor("\(identity.collectionName)/\(identity.recordId)")
        return identity
    }

    /// `forbidden`: the 403 for a signed-in non-superuser (PocketBase words it per route).
    func requireSuperuser(_ request: Request, _ context: BurgRequestContext, forbidden: APIError = .superusersOnly) async throws -> AuthIdentity {
        // As PocketBase: a guest is asked to sign in (401), a signed-in non-superuser is refused (403).
        guard let identity = try await identity(request, context) else {
            throw APIError(.unauthorized, "The request requires valid record authorization token.")
        }
        guard identity.isSuperuser else { throw forbidden }
        return identity
    }
}

extension Request {
    /// The JSON object of the body (an empty body is `{}`); 400 for anything else, 413 above the limit.
    func jsonObject(context: some RequestContext, limit: Int? = nil) async throws -> [String: JSONValue] {
        let buffer = try await body.collect(upTo: limit ?? context.maxUploadSize)
        if buffer.readableBytes == 0 { return [:] }
        let value = try buffer.readableBytesView.withContiguousStorageIfAvailable { bytes in
            try JSONValue.parse(bytes)
        } ?? JSONValue.parse(String(buffer: buffer))
        guard case .object(let object) = value else { throw APIError(.badRequest, "The request body must be a JSON object.") }
        return object
    }
}
