import Foundation
import HTTPTypes
import Hummingbird

/// PocketBase's `trustedProxy`: when headers are listed, the client's address is the first valid IP
/// address found in them, in the order listed — of a list such as `X-Forwarded-For: client, proxy1`,
/// the rightmost (the one the nearest proxy added), or the leftmost with `useLeftmostIP`. Without a
/// listed header, or without a valid address in it, the connection's own address counts. Read from the
/// settings in force at each request; everything after it (log, rate limits, lockouts, audit) sees
/// the same address.
struct TrustedProxyMiddleware: RouterMiddleware {
    let settings: RuntimeSettings

    func handle(_ request: Request, context: BurgRequestContext, next: (Request, BurgRequestContext) async throws -> Response) async throws -> Response {
        let proxy = settings.snapshot.settings.trustedProxy
        guard !proxy.headers.isEmpty, let address = Self.address(in: request.headers, proxy) else {
            return try await next(request, context)
        }
        var context = context
        context.forwardedIP = address
        return try await next(request, context)
    }

    static func address(in headers: HTTPFields, _ proxy: TrustedProxySettings) -> String? {
        for name in proxy.headers {
            guard let field = HTTPField.Name(name) else { continue }
            let values = headers[values: field].flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { IPAddressRange.address($0) != nil }
            if let found = proxy.useLeftmostIP ? values.first : values.last { return found }
        }
        return nil
    }
}
