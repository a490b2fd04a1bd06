import BurgCore
import Foundation

/// How repeated sign-in failures are slowed down: after `maxFailures` failed attempts for one identity
/// within `window`, that identity is refused for `lockoutDuration` whatever the password; the same holds
/// per client IP address with `maxFailuresPerIP`, so that one address cannot try many identities.
public struct LockoutPolicy: Sendable, Equatable {
    public var maxFailures: Int = 5
    public var maxFailuresPerIP: Int = 50
    public var window: Duration = .seconds(15 * 60)
    public var lockoutDuration: Duration = .seconds(15 * 60)

    public init() {}
}

/// Settings of authentication. The CLI and the config file fill it; nothing here reads the environment.
public struct AuthSettings: Sendable, Equatable {
    /// bcrypt's cost (log2 of the rounds): 10 takes ~60 ms per hash on one core here; 4…31 allowed.
    public var bcryptCost: Int = 10
    /// How long a token of a regular auth record (a `users` record) stays valid.
    public var tokenLifetime: Duration = .seconds(7 * 24 * 3600)
    /// How long a superuser's token stays valid.
    public var superuserTokenLifetime: Duration = .seconds(24 * 3600)
    public var lockout = LockoutPolicy()
    /// Threads that hash passwords, away from the threads that serve requests. Default: one per core.
    public var hashingThreads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Shortest password accepted.
    public var minPasswordLength: Int = 8

    public init() {}
}
