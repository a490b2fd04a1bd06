import BurgCore
import BurgRecords

/// Why a sign-in, a token or an auth record change was refused. Nothing was changed, except that a
/// failed sign-in is counted towards the lockout.
public struct AuthError: CodedError, Equatable {
    public enum Code: String, Sendable, CaseIterable {
        /// Wrong identity or password; deliberately does not say which.
        case invalidCredentials = "auth_invalid_credentials"
        /// Too many failures for this identity or address; try again after ``AuthError/retryAfter``.
        case lockedOut = "auth_locked_out"
        /// The token is malformed, forged, expired, or was invalidated by a password change.
        case invalidToken = "auth_invalid_token"
        /// The collection is not an auth collection, or does not exist.
        case notAuthCollection = "auth_not_auth_collection"
        /// An auth record's email or password is missing or invalid (see ``AuthError/fields``).
        case invalidRecord = "auth_invalid_record"
    }

    public var code: Code
    public var message: String
    /// When a locked-out identity may try again.
    public var retryAfter: Duration?
    /// Per-field problems, in PocketBase's `{field: {code, message}}` shape.
    public var fields: [String: FieldError] = [:]

    public init(_ code: Code, _ message: String, retryAfter: Duration? = nil, fields: [String: FieldError] = [:]) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.fields = fields
    }


    public var description: String {
        switch code {
        case .lockedOut:
            let wait = retryAfter.map { " for another \(formatDuration($0))" } ?? ""
            return "\(message): too many failed sign-ins; locked\(wait)"
        default:
            return message
        }
    }

    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .invalidCredentials, .invalidToken: ExitStatus.noPermission
        case .lockedOut: ExitStatus.tempFail
        case .notAuthCollection: ExitStatus.noInput
        case .invalidRecord: ExitStatus.dataError
        }
    }
}
