/// The ways the records of one auth collection can sign in.
public struct SignInMethods: Sendable, Equatable {
    /// The fields `auth-with-password` accepts as the identity; empty: no password sign-in.
    public var passwordIdentityFields: [String]

    public init(passwordIdentityFields: [String]) {
        self.passwordIdentityFields = passwordIdentityFields
    }
}
