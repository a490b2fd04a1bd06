import BurgCore
import BurgRecords
import BurgStore
import Foundation
import Logging
import Synchronization
import SystemPackage

/// Signs people in and tells who a token belongs to.
///
/// Guarantees: passwords are stored only as bcrypt hashes, hashed on threads of their own
/// (``PasswordHasher``); a token is valid only while its record's password is unchanged and until it
/// expires; repeated failures lock an identity (and an address) out for a while (``LockoutPolicy``),
/// also across restarts; every success, failure and lockout is in the audit log.
public final class Authenticator: Sendable {
    public let store: Store
    public let settings: AuthSettings
    public let hasher: PasswordHasher
    public let audit: AuditLog
    let tokens: AuthTokens
    let throttle: LoginThrottle
    let logger: Logger
    let now: @Sendable () -> Date
    /// Checked when an identity does not exist, so that a missing account costs as much time as a wrong
    /// password and response times do not tell which accounts exist.
    /// Made on first use rather than at start: a bcrypt hash takes a noticeable time, and a server
    /// should be up (and answer SIGTERM) at once.
    private let decoy = Mutex<String?>(nil)

    /// Loads (or creates) the installation's token secret in `dataDirectory` and makes sure the `users`
    /// and `_superusers` collections exist. `now` is injectable for tests of expiry and lockout.
    public init(
        store: Store, dataDirectory: FilePath, settings: AuthSettings = AuthSettings(), logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws {
        self.store = store
        self.settings = settings
        self.logger = logger
        self.now = now
        hasher = PasswordHasher(cost: settings.bcryptCost, threads: settings.hashingThreads)
        audit = AuditLog(store: store)
        throttle = LoginThrottle(policy: settings.lockout)
        tokens = await AuthTokens(secret: try AuthTokens.loadOrCreateSecret(in: dataDirectory))
        try Self.ensureDefaultCollections(store)
    }

    static func ensureDefaultCollections(_ store: Store) throws {
        let registry = CollectionRegistry(store: store)
        for collection in [AuthCollections.defaultSuperusers, AuthCollections.defaultUsers] {
            let exists = try store.read { db in try CollectionRegistry.exists(collection.name, in: db) }
            if exists { continue }
            do {
                _ = try registry.create(collection)
            } catch let error as SchemaError where error.code == .collectionExists {
                // Another process created it first.
            }
        }
    }

    private func decoyHash() async -> String {
        if let known = decoy.withLock({ $0 }) { return known }
        let made = await hasher.hash(RecordID.generate())
        return decoy.withLock { current in
            if current == nil { current = made }
            return current!
        }
    }

    // MARK: Signing in

    /// Checks `password` for the record of auth collection `collection` whose email is `identity`.
    /// Throws ``AuthError`` `invalidCredentials` (wrong identity or password, not saying which) or
    /// `lockedOut` with the time to wait.
    public func authWithPassword(collection name: String, identity: String, password: String, clientIP: String) async throws -> AuthResult {
        let collection = try await authCollection(name)
        let email = identity.trimmingCharacters(in: .whitespaces).lowercased()
        let identityKey = LoginThrottle.identityKey(collection: collection.name, identity: email)
        let addressKey = LoginThrottle.addressKey(clientIP)
        let throttle = self.throttle
        let started = now()
        if let wait = try await store.read({ db in try throttle.lockedFor([identityKey, addressKey], now: started, db) }) {
            logger.warning("sign-in refused: locked out", metadata: ["collection": "\(collection.name)", "identity": "\(email)", "ip": "\(clientIP)"])
            throw AuthError(.lockedOut, "sign-in to \(collection.name) as \(email) refused", retryAfter: wait)
        }
        let collectionName = collection.name
        let account = try await store.read { db in try AuthStorage.credentials(email: email, in: collectionName, db) }
        let stored: String
        if let password = account?.password { stored = password } else { stored = await decoyHash() }
        let matches = await hasher.verify(password, hash: stored) && account != nil
        guard matches, let account else {
            let limits = [(identityKey, settings.lockout.maxFailures), (addressKey, settings.lockout.maxFailuresPerIP)]
            let audit = self.audit
            let time = now()
            let locked = try await store.write { db in
                let locked = try throttle.recordFailure(limits, now: time, db)
                try audit.append(AuditEntry(action: "auth.failure", actor: "anonymous", collection: collectionName,
                    ip: clientIP, detail: "identity \(email)", at: time), db: db)
                if !locked.isEmpty {
                    try audit.append(AuditEntry(action: "auth.lockout", actor: "anonymous", collection: collectionName,
                        ip: clientIP, detail: locked.joined(separator: ", "), at: time), db: db)
                }
                return locked
            }
            logger.notice("sign-in failed", metadata: ["collection": "\(collection.name)", "identity": "\(email)", "ip": "\(clientIP)"])
            if !locked.isEmpty {
                logger.warning("locked out after repeated failures", metadata: ["keys": "\(locked)", "for": "\(formatDuration(settings.lockout.lockoutDuration))"])
            }
            throw AuthError(.invalidCredentials, "Failed to authenticate.")
        }
        let recordID = account.id
        let audit = self.audit
        let time = now()
        let record = try await store.write { db in
            try throttle.recordSuccess(identityKey, db)
            try AuthStorage.recordSignIn(id: recordID, at: FilterSQL.formatDate(time), in: collectionName, db)
            try audit.append(AuditEntry(action: "auth.success", actor: "\(collection.name):\(recordID)",
                collection: collection.name, recordId: recordID, ip: clientIP, at: time), db: db)
            return try RecordStore.record(in: db, collection: collection, id: recordID)
        }
        return try await result(for: collection, record: record)
    }

    /// A new token for an identity whose token is still valid.
    public func refresh(_ identity: AuthIdentity) async throws -> AuthResult {
        let collection = try await authCollection(identity.collectionName)
        let record = try await store.read { db in try RecordStore.record(in: db, collection: collection, id: identity.recordId) }
        return try await result(for: collection, record: record)
    }

    private func result(for collection: CollectionModel, record: RecordModel) async throws -> AuthResult {
        let collectionName = collection.name
        let recordID = record.id
        let tokenKey = try await store.read { db in try AuthStorage.tokenKey(id: recordID, in: collectionName, db) } ?? ""
        let isSuperuser = collection.name == AuthCollections.superusers
        let lifetime = isSuperuser ? settings.superuserTokenLifetime : settings.tokenLifetime
        let payload = AuthTokenPayload(
            id: record.id, collectionId: collection.id, type: "auth",
            exp: Int(now().timeIntervalSince1970 + lifetime.seconds), refreshable: true,
            tkh: AuthTokenPayload.fingerprint(ofTokenKey: tokenKey))
        let identity = AuthIdentity(collectionId: collection.id, collectionName: collection.name, recordId: record.id,
            isSuperuser: isSuperuser, record: record)
        return AuthResult(token: try await tokens.sign(payload), record: record, identity: identity)
    }

    // MARK: Tokens

    /// How long a file token (``fileToken(for:)``) opens protected files.
    public static let fileTokenLifetime: Duration = .seconds(180)

    /// A short-lived token that opens protected files for `identity` (PocketBase's `POST /api/files/token`):
    /// it is not accepted as an auth token, and a password change voids it like any other token.
    public func fileToken(for identity: AuthIdentity) async throws -> String {
        let tokenKey = try await store.read { db in try AuthStorage.tokenKey(id: identity.recordId, in: identity.collectionName, db) }
        guard let tokenKey else { throw AuthError(.invalidToken, "The request requires valid authorization token.") }
        return try await tokens.sign(AuthTokenPayload(
            id: identity.recordId, collectionId: identity.collectionId, type: "file",
            exp: Int(now().timeIntervalSince1970 + Self.fileTokenLifetime.seconds), refreshable: false,
            tkh: AuthTokenPayload.fingerprint(ofTokenKey: tokenKey)))
    }

    /// Who `token` (raw, or `Bearer <token>`) belongs to. Throws ``AuthError`` `invalidToken` when it is
    /// malformed, forged, expired, its record is gone, or its record's password changed since.
    public func verify(token raw: String) async throws -> AuthIdentity {
        try await verify(raw, type: "auth")
    }

    /// Who a file token belongs to; throws `invalidToken` as ``verify(token:)`` does (an auth token is
    /// not a file token, nor the other way round).
    public func verify(fileToken raw: String) async throws -> AuthIdentity {
        try await verify(raw, type: "file")
    }

    private func verify(_ raw: String, type: String) async throws -> AuthIdentity {
        var token = raw.trimmingCharacters(in: .whitespaces)
        if token.lowercased().hasPrefix("bearer ") { token = String(token.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        let invalid = AuthError(.invalidToken, "The request requires valid authorization token.")
        guard !token.isEmpty, token.utf8.count < 4096, let payload = await tokens.payload(of: token), payload.type == type else { throw invalid }
        guard Double(payload.exp) > now().timeIntervalSince1970 else { throw invalid }
        let found: (CollectionModel, RecordModel)? = try await store.read { db in
            guard let collection = try CollectionRegistry.collection(id: payload.collectionId, in: db), collection.type == .auth,
                  let tokenKey = try AuthStorage.tokenKey(id: payload.id, in: collection.name, db),
                  AuthTokenPayload.fingerprint(ofTokenKey: tokenKey) == payload.tkh
            else { return nil }
            return (collection, try RecordStore.record(in: db, collection: collection, id: payload.id))
        }
        guard let (collection, record) = found else { throw invalid }
        return AuthIdentity(collectionId: collection.id, collectionName: collection.name, recordId: record.id,
            isSuperuser: collection.name == AuthCollections.superusers, record: record)
    }

    // MARK: Auth records

    /// Creates a record of an auth collection from client values: `email`, `password` and
    /// `passwordConfirm` are checked (every problem reported at once), the password is stored as a
    /// bcrypt hash and a fresh `tokenKey` is drawn. Only a superuser may set `verified`.
    public func createRecord(
        collection name: String, values: [String: JSONValue], files: [String: [FileUpload]] = [:], by actor: AuthIdentity? = nil,
        requirePasswordConfirm: Bool = true
    ) async throws -> RecordModel {
        try await create(collection: name, values: values, files: files, trusted: actor?.isSuperuser == true, requirePasswordConfirm: requirePasswordConfirm)
    }

    private func create(
        collection name: String, values: [String: JSONValue], files: [String: [FileUpload]] = [:], trusted: Bool, requirePasswordConfirm: Bool
    ) async throws -> RecordModel {
        let collection = try await authCollection(name)
        var values = values
        var errors: [String: FieldError] = [:]
        let password = try checkNewPassword(values, requireConfirm: requirePasswordConfirm, errors: &errors)
        if values["email"] == nil || values["email"] == .string("") {
            errors["email"] = FieldError("validation_required", "Cannot be blank.")
        }
        if !errors.isEmpty { throw RecordValidationError(collection: collection.name, fields: errors) }
        sanitize(&values, trusted: trusted)
        values["password"] = .string(await hasher.hash(password ?? ""))
        values["tokenKey"] = .string(Self.newTokenKey())
        return try await RecordStore(store: store).create(collection.name, values, files: files)
    }

    /// Changes an auth record. A new `password` needs `passwordConfirm`, and — unless a superuser makes
    /// the change — `oldPassword`; it draws a new `tokenKey`, so earlier tokens stop working.
    public func updateRecord(
        collection name: String, id: String, values: [String: JSONValue], files: [String: [FileUpload]] = [:], by actor: AuthIdentity?
    ) async throws -> RecordModel {
        let collection = try await authCollection(name)
        var values = values
        if values["password"] != nil {
            var errors: [String: FieldError] = [:]
            let password = try checkNewPassword(values, requireConfirm: true, errors: &errors)
            if actor?.isSuperuser != true {
                let collectionName = collection.name
                let stored = try await store.read { db in try AuthStorage.passwordHash(id: id, in: collectionName, db) }
                guard case .string(let old)? = values["oldPassword"], let stored, await hasher.verify(old, hash: stored) else {
                    errors["oldPassword"] = FieldError("validation_invalid_old_password", "Missing or invalid old password.")
                    throw RecordValidationError(collection: collection.name, fields: errors)
                }
            }
            if !errors.isEmpty { throw RecordValidationError(collection: collection.name, fields: errors) }
            sanitize(&values, trusted: actor?.isSuperuser == true)
            values["password"] = .string(await hasher.hash(password ?? ""))
            values["tokenKey"] = .string(Self.newTokenKey())
        } else {
            sanitize(&values, trusted: actor?.isSuperuser == true)
        }
        return try await RecordStore(store: store).update(collection.name, id: id, values, files: files)
    }

    /// Creates the superuser `email`, or sets its password if it exists (which signs out its sessions).
    @discardableResult
    public func upsertSuperuser(email rawEmail: String, password: String) async throws -> RecordModel {
        let email = rawEmail.trimmingCharacters(in: .whitespaces).lowercased()
        let existing = try await store.read { db in try AuthStorage.recordID(email: email, in: AuthCollections.superusers, db) }
        let record: RecordModel
        if let existing {
            var errors: [String: FieldError] = [:]
            let checked = try checkNewPassword(["password": .string(password)], requireConfirm: false, errors: &errors)
            if !errors.isEmpty { throw RecordValidationError(collection: AuthCollections.superusers, fields: errors) }
            let values: [String: JSONValue] = [
                "password": .string(await hasher.hash(checked ?? "")), "tokenKey": .string(Self.newTokenKey()),
            ]
            record = try await RecordStore(store: store).update(AuthCollections.superusers, id: existing, values)
        } else {
            record = try await create(
                collection: AuthCollections.superusers, values: ["email": .string(email), "password": .string(password), "verified": .bool(true)],
                trusted: true, requirePasswordConfirm: false)
        }
        try await audit.append(AuditEntry(action: existing == nil ? "superuser.create" : "superuser.password",
            actor: "cli", collection: AuthCollections.superusers, recordId: record.id, fields: ["password"], at: now()))
        return record
    }

    /// How many superusers exist (a fresh installation has none, and says how to create one).
    public func superuserCount() async throws -> Int {
        try await store.read { db in try AuthStorage.count(in: AuthCollections.superusers, db) }
    }

    /// How records of an auth collection can sign in (PocketBase's `auth-methods`): with a password and
    /// their email, the one way Burg offers yet (no OAuth2, OTP or MFA). An unknown or non-auth
    /// collection throws `.notAuthCollection`.
    public func signInMethods(collection name: String) async throws -> SignInMethods {
        _ = try await authCollection(name)
        return SignInMethods(passwordIdentityFields: ["email"])
    }

    // MARK: Helpers

    private func authCollection(_ name: String) async throws -> CollectionModel {
        let collection = try? await store.read { db in try CollectionRegistry.collection(named: name, in: db) }
        guard let collection, collection.type == .auth else {
            throw AuthError(.notAuthCollection, "\"\(name)\" is not an auth collection")
        }
        return collection
    }

    /// The new password of `values`, with problems added to `errors`.
    private func checkNewPassword(_ values: [String: JSONValue], requireConfirm: Bool, errors: inout [String: FieldError]) throws -> String? {
        guard case .string(let password)? = values["password"], !password.isEmpty else {
            errors["password"] = FieldError("validation_required", "Cannot be blank.")
            return nil
        }
        if password.count < settings.minPasswordLength {
            errors["password"] = FieldError("validation_length_out_of_range", "Must be at least \(settings.minPasswordLength) characters.")
        } else if password.utf8.count > 71 {
            // bcrypt ignores everything after 72 bytes; refusing is better than silently truncating.
            errors["password"] = FieldError("validation_length_out_of_range", "Must be at most 71 bytes.")
        }
        if requireConfirm, values["passwordConfirm"] != .string(password) {
            errors["passwordConfirm"] = FieldError("validation_values_mismatch", "Values don't match.")
        }
        return password
    }

    /// Removes what clients may not set directly; only a superuser (`trusted`) may set `verified`.
    private func sanitize(_ values: inout [String: JSONValue], trusted: Bool) {
        values["passwordConfirm"] = nil
        values["oldPassword"] = nil
        values["tokenKey"] = nil
        values["lastLogin"] = nil
        if !trusted { values["verified"] = nil }
        if case .string(let email)? = values["email"] {
            values["email"] = .string(email.trimmingCharacters(in: .whitespaces).lowercased())
        }
    }

    static func newTokenKey() -> String {
        RecordID.generate() + RecordID.generate() + RecordID.generate()
    }
}
