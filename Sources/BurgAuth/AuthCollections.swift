import BurgRecords

/// The fields every auth collection has, and the collections every installation has: `users` (people who
/// sign in to the organisation's apps) and `_superusers` (administrators, allowed everything).
public enum AuthCollections {
    public static let users = "users"
    public static let superusers = "_superusers"

    /// Names of the system fields of an auth collection. `password` holds a bcrypt hash and `tokenKey`
    /// a random key that signed tokens are bound to; both are hidden: never in record JSON or filters.
    public static let systemFieldNames = ["email", "emailVisibility", "verified", "password", "tokenKey", "lastLogin"]

    /// Deletes a collection unless auth needs it: `users` is where sign-up and the server's auth routes
    /// look first, so it is protected here as `_superusers` is by the registry (`.protected`).
    /// Into the trash unless `purge` (``CollectionRegistry/delete(_:purge:)``); returns the trash id.
    @discardableResult
    public static func delete(_ name: String, in registry: CollectionRegistry, purge: Bool = false) throws -> String? {
        if try registry.get(name).name == users {
            throw SchemaError(.protected, collection: users,
                              message: "is Burg's default auth collection and cannot be deleted")
        }
        return try registry.delete(name, purge: purge)
    }

    /// Creates `collection`; an auth collection gets its system fields merged in (as PocketBase does), so
    /// sign-in always finds `email`, `password` and `tokenKey` whatever the definition listed.
    @available(*, noasync, message: "blocks its thread: run it through BlockingWork")
    @discardableResult
    public static func create(_ collection: CollectionModel, in registry: CollectionRegistry) throws -> CollectionModel {
        try registry.create(collection.type == .auth ? prepare(collection) : collection)
    }

    /// Changes a collection's definition (``CollectionRegistry/update(_:to:force:)``); an auth collection
    /// keeps its system fields whatever the new definition lists — a `fields` list without them (PocketBase's
    /// `fields` replaces the whole list) gets them merged back instead of dropping every credential.
    @available(*, noasync, message: "blocks its thread: run it through BlockingWork")
    @discardableResult
    public static func update(_ name: String, to new: CollectionModel, force: Bool = false, in registry: CollectionRegistry) throws -> CollectionModel {
        try registry.update(name, to: new.type == .auth ? prepare(new) : new, force: force)
    }

    /// PocketBase's collections import (``CollectionRegistry/importAll(_:deleteMissing:force:keeping:)``)
    /// with auth collections' system fields merged in, and `users` never deleted as missing.
    @available(*, noasync, message: "blocks its thread: run it through BlockingWork")
    @discardableResult
    public static func importAll(
        _ collections: [CollectionModel], deleteMissing: Bool, force: Bool = false, in registry: CollectionRegistry
    ) throws -> CollectionImportSummary {
        try registry.importAll(collections.map { $0.type == .auth ? prepare($0) : $0 }, deleteMissing: deleteMissing, force: force, keeping: [users])
    }

    /// What a new collection of each kind starts as (PocketBase's `GET /api/collections/meta/scaffolds`).
    public static var scaffolds: [String: CollectionModel] {
        ["base": CollectionModel(name: "", fields: [], id: ""), "auth": prepare(CollectionModel(name: "", fields: [], id: ""))]
    }

    /// `collection` with the auth system fields added in front of its own (existing fields of the same
    /// name are replaced, so a client cannot weaken `password`'s options).
    public static func prepare(_ collection: CollectionModel) -> CollectionModel {
        var prepared = collection
        prepared.type = .auth
        var email = Field(name: "email", type: .email)
        email.required = true
        email.unique = true
        email.system = true
        var emailVisibility = Field(name: "emailVisibility", type: .bool)
        emailVisibility.system = true
        var verified = Field(name: "verified", type: .bool)
        verified.system = true
        var password = Field(name: "password", type: .text)
        password.required = true
        password.hidden = true
        password.system = true
        var tokenKey = Field(name: "tokenKey", type: .text)
        tokenKey.required = true
        tokenKey.hidden = true
        tokenKey.system = true
        var lastLogin = Field(name: "lastLogin", type: .date)
        lastLogin.system = true
        let system = [email, emailVisibility, verified, password, tokenKey, lastLogin]
        let names = Set(systemFieldNames.map { $0.lowercased() })
        prepared.fields = system + collection.fields.filter { !names.contains($0.name.lowercased()) }
        return prepared
    }

    /// The default `users` collection, with PocketBase's default rules: anyone may sign up, a user may
    /// see and change only their own record.
    static var defaultUsers: CollectionModel {
        var name = Field(name: "name", type: .text)
        name.max = 255
        let own = "id = @request.auth.id"
        return prepare(CollectionModel(
            name: users, fields: [name], id: "_pb_users_auth_",
            rules: CollectionModel.Rules(list: own, view: own, create: "", update: own, delete: own)))
    }

    /// `_superusers`: a system auth collection no rule opens (superusers only).
    static var defaultSuperusers: CollectionModel {
        var collection = prepare(CollectionModel(name: superusers, fields: [], id: "pbc_3142635823"))
        collection.system = true
        return collection
    }
}
