import BurgCore
import Crypto
import Foundation
import JWTKit
import SystemPackage

/// The claims of a Burg token, in PocketBase's shape (`id`, `collectionId`, `type` — "auth", or "file"
/// for the short-lived tokens that open protected files —, `exp`, `refreshable`) plus `tkh`, a fingerprint of the record's `tokenKey`: changing the password draws a new
/// `tokenKey`, which makes every earlier token of that record invalid.
struct AuthTokenPayload: JWTPayload, Equatable {
    var id: String
    var collectionId: String
    var type: String
    /// Expiry, whole seconds since 1970 (the JavaScript SDK needs an integer).
    var exp: Int
    var refreshable: Bool
    var tkh: String

    func verify(using algorithm: some JWTAlgorithm) async throws {
        guard type == "auth" || type == "file" else { throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "not a Burg token") }
    }

    static func fingerprint(ofTokenKey tokenKey: String) -> String {
        SHA256.hash(data: Data(tokenKey.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }
}

/// Signs and checks tokens with the installation's secret: 64 random bytes in `<data dir>/auth.secret`,
/// created once (mode 0600) and kept. Tokens stay valid across restarts; deleting the file (with the
/// server stopped) invalidates every token ever issued.
final class AuthTokens: Sendable {
    static let secretFileName = "auth.secret"
    private let keys: JWTKeyCollection

    init(secret: [UInt8]) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: SymmetricKey(data: secret)), digestAlgorithm: .sha256)
    }

    /// The secret in `dataDirectory`, created if missing. Several processes starting at once agree on
    /// one secret: creation happens under the file's lock and keeps a secret another process wrote first.
    static func loadOrCreateSecret(in dataDirectory: FilePath) throws -> [UInt8] {
        let path = dataDirectory.appending(secretFileName)
        if let existing = try AtomicFile.read(path), existing.count >= 32 { return existing }
        return try AtomicFile.update(path) { current in
            if let current, current.count >= 32 { return current }
            var generator = SystemRandomNumberGenerator()
            return (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
    }

    func sign(_ payload: AuthTokenPayload) async throws -> String {
        try await keys.sign(payload)
    }

    /// The payload of a token whose signature is valid, or nil. Expiry is checked by the caller against
    /// its clock.
    func payload(of token: String) async -> AuthTokenPayload? {
        try? await keys.verify(token, as: AuthTokenPayload.self)
    }
}
