import BurgRecords

/// The application settings of `/api/settings`, in PocketBase's sections and keys. A value type: a
/// copy is a consistent snapshot, never torn by a change made while it is read. Secrets
/// (`smtp.password`, `s3.secret`, `backups.s3.secret`) are held here for the parts that use them and
/// never written into an answer (``json(secrets:)``).
public struct AppSettings: Sendable, Equatable {
    public var superuserIPs: [String] = []
    public var smtp = SMTPSettings()
    public var backups = BackupSettings()
    public var s3 = S3Settings()
    public var meta = MetaSettings()
    public var rateLimits = RateLimitSettings()
    public var trustedProxy = TrustedProxySettings()
    public var batch = BatchSettings()
    public var logs = LogSettings()

    /// PocketBase 0.40's defaults of a fresh instance (rate limits and batches off).
    public init() {}

    /// The sections, in PocketBase's order (the order of its answer).
    static let sectionNames = ["superuserIPs", "smtp", "backups", "s3", "meta", "rateLimits", "trustedProxy", "batch", "logs"]

    /// What a mail sender needs at send time: the SMTP server and the sender's name and address.
    public var mail: MailSettings { MailSettings(smtp: smtp, meta: meta) }

    /// Every key and value, secrets included, as plain JSON (to read a key's value by its path).
    public var settingsJSON: JSONValue { json(secrets: true).plain }

    /// The settings in PocketBase's key order; secrets only with `secrets` (for storage, never for an answer).
    func json(secrets: Bool) -> OrderedJSON {
        .object(Self.sectionNames.map { OrderedJSON.Member(key: $0, value: section($0, secrets: secrets)) })
    }

    func section(_ name: String, secrets: Bool) -> OrderedJSON {
        switch name {
        case "superuserIPs": .strings(superuserIPs)
        case "smtp": smtp.json(secrets: secrets)
        case "backups": backups.json(secrets: secrets)
        case "s3": s3.json(secrets: secrets)
        case "meta": meta.json(secrets: secrets)
        case "rateLimits": rateLimits.json(secrets: secrets)
        case "trustedProxy": trustedProxy.json(secrets: secrets)
        case "batch": batch.json(secrets: secrets)
        case "logs": logs.json(secrets: secrets)
        default: preconditionFailure("no settings section \(name)")
        }
    }

    /// Applies the keys `value` holds to section `name` (an unknown section is ignored, as PocketBase
    /// ignores unknown keys); keys left out keep their value, lists are replaced whole.
    mutating func apply(section name: String, _ value: JSONValue) throws(SettingsLoadError) {
        if name == "superuserIPs" {
            try SettingsReader.strings(value, path: name, into: &superuserIPs)
            return
        }
        guard let reader = try SettingsReader(value, path: name) else { return }
        switch name {
        case "smtp": try smtp.apply(reader)
        case "backups": try backups.apply(reader)
        case "s3": try s3.apply(reader)
        case "meta": try meta.apply(reader)
        case "rateLimits": try rateLimits.apply(reader)
        case "trustedProxy": try trustedProxy.apply(reader)
        case "batch": try batch.apply(reader)
        case "logs": try logs.apply(reader)
        default: break
        }
    }
}

/// A section of ``AppSettings``: read from the keys a JSON object holds, answered in PocketBase's order.
protocol SettingsSection: Sendable, Equatable {
    init()
    mutating func apply(_ reader: SettingsReader) throws(SettingsLoadError)
    func json(secrets: Bool) -> OrderedJSON
}

/// The SMTP server mail is sent through (PocketBase's `smtp`). `authMethod` is `PLAIN`, `LOGIN`, or
/// empty (PLAIN); `tls` forces TLS from the start, else STARTTLS is offered.
public struct SMTPSettings: SettingsSection {
    public var enabled = false
    public var port = 587
    public var host = "smtp.example.com"
    public var username = ""
    public var password = ""
    public var authMethod = ""
    public var tls = false
    public var localName = ""
    public init() {}

    mutating func apply(_ r: SettingsReader) throws(SettingsLoadError) {
        try r.bool("enabled", &enabled)
        try r.int("port", &port)
        try r.string("host", &host)
        try r.string("username", &username)
        try r.string("password", &password)
        try r.string("authMethod", &authMethod)
        try r.bool("tls", &tls)
        try r.string("localName", &localName)
    }

    func json(secrets: Bool) -> OrderedJSON {
        var members: [OrderedJSON.Member] = [
            .init(key: "enabled", value: .bool(enabled)), .init(key: "port", value: .int(port)),
            .init(key: "host", value: .string(host)), .init(key: "username", value: .string(username)),
        ]
        // PocketBase leaves the password's key out of its answer altogether.
        if secrets { members.append(.init(key: "password", value: .string(password))) }
        members += [
            .init(key: "authMethod", value: .string(authMethod)), .init(key: "tls", value: .bool(tls)),
            .init(key: "localName", value: .string(localName)),
        ]
        return .object(members)
    }
}

/// An S3-compatible bucket (PocketBase's `s3`, and `backups.s3`).
public struct S3Settings: SettingsSection {
    public var enabled = false
    public var bucket = ""
    public var region = ""
    public var endpoint = ""
    public var accessKey = ""
    public var secret = ""
    public var forcePathStyle = false
    public init() {}

    mutating func apply(_ r: SettingsReader) throws(SettingsLoadError) {
        try r.bool("enabled", &enabled)
        try r.string("bucket", &bucket)
        try r.string("region", &region)
        try r.string("endpoint", &endpoint)
        try r.string("accessKey", &accessKey)
        try r.string("secret", &secret)
        try r.bool("forcePathStyle", &forcePathStyle)
    }

    func json(secrets: Bool) -> OrderedJSON {
        var members: [OrderedJSON.Member] = [
            .init(key: "enabled", value: .bool(enabled)), .init(key: "bucket", value: .string(bucket)),
            .init(key: "region", value: .string(region)), .init(key: "endpoint", value: .string(endpoint)),
            .init(key: "accessKey", value: .string(accessKey)),
        ]
        if secrets { members.append(.init(key: "secret", value: .string(secret))) }
        members.append(.init(key: "forcePathStyle", value: .bool(forcePathStyle)))
        return .object(members)
    }
}

/// Scheduled backups (PocketBase's `backups`): a cron expression (empty: none) and how many to keep.
public struct BackupSettings: SettingsSection {
    public var cron = ""
    public var cronMaxKeep = 3
    public var s3 = S3Settings()
    public init() {}

    mutating func apply(_ r: SettingsReader) throws(SettingsLoadError) {
        try r.string("cron", &cron)
        try r.int("cronMaxKeep", &cronMaxKeep)
        try r.section("s3", &s3)
    }

    func json(secrets: Bool) -> OrderedJSON {
        .members(["cron": .string(cron), "cronMaxKeep": .int(cronMaxKeep), "s3": s3.json(secrets: secrets)])
    }
}

/// The application's name and address as mails and links show them (PocketBase's `meta`).
public struct MetaSettings: SettingsSection {
    public var accentColor = "#1055c9"
    public var appName = "Acme"
    public var appURL = "http://localhost:8090"
    public var senderName = "Support"
    public var senderAddress = "support@example.com"
    public var hideControls = false
    public init() {}

    mutating func apply(_ r: SettingsReader) throws(SettingsLoadError) {
        try r.string("accentColor", &accentColor)
        try r.string("appName", &appName)
        try r.string("appURL", &appURL)
        try r.string("senderName", &senderName)
        try r.string("senderAddress", &senderAddress)
        try r.bool("hideControls", &hideControls)
    }

    func json(secrets: Bool) -> OrderedJSON {
        .members([
            "accentColor": .string(accentColor), "appName": .string(appName), "appURL": .string(appURL),
            "senderName": .string(senderName), "senderAddress": .string(senderAddress), "hideControls": .bool(hideControls),
        ])
    }
}

/// One rate limit rule: at most `maxRequests` per `duration` seconds from one client address for the
/// requests `label` names (`*:auth`, `posts:create`, `/api/batch`, `GET /api/collections/`, a path
/// prefix ending in `/`), for `audience` `""` (everyone), `@guest` or `@auth`.
public struct RateLimitRule: SettingsSection, Hashable {
    public var label = ""
    public var audience = ""
    public var duration = 0
    public var maxRequests = 0
    public init() {}

    public init(label: String, audience: String = "", duration: Int, maxRequests: Int) {
        self.label = label
        self.audience = audience
        self.duration = duration
        self.maxRequests = maxRequests
    }

    mutating func apply(_ r: SettingsReader) throws(SettingsLoadError) {
        try r.string("label", &label)
        try r.string("audience", &audience)
        try r.int("duration", &duration)
        try r.int("maxRequests", &maxRequests)
    }

    func json(secrets: Bool) -> OrderedJSON {
        .members(["label": .string(label), "audience": .string(audience), "duration": .int(duration), "maxRequests": .int(maxRequests)])
    }
}

/// PocketBase's `rateLimits`: the rules, addresses exempt from them, and whether they apply.
public struct RateLimitSettings: SettingsSection {
    public var rules: [RateLimitRule] = [
        RateLimitRule(label: "*:auth", duration: 3, maxRequests: 2),
        RateLimitRule(label: "*:create", duration: 5, maxRequests: 20),
        RateLimitRule(label: "/api/batch", duration: 1, maxRequests: 3),
        RateLimitRule(label: "/api/", duration: 10, maxRequests: 300),
    ]
    public var excludedIPs: [String] = []
    public var enabled = false
    public init() {}

    mutating func apply(_ r: SettingsReader) throws(SettingsLoadError) {
        try r.list("rules", &rules)
        try r.strings("excludedIPs", &excludedIPs)
        try r.bool("enabled", &enabled)
    }

    func json(secrets: Bool) -> OrderedJSON {
        .members([
            "rules": .array(rules.map { $0.json(secrets: secrets) }), "excludedIPs": .strings(excludedIPs), "enabled": .bool(enabled),
        ])
    }
}

/// Which request headers a proxy in front of Burg sets to the client's address (PocketBase's
/// `trustedProxy`); none: the connection's own address is the client's.
public struct TrustedProxySettings: SettingsSection {
    public var headers: [String] = []
    public var useLeftmostIP = false
    public init() {}

    mutating func apply(_ r: SettingsReader) throws(SettingsLoadError) {
        try r.strings("headers", &headers)
        try r.bool("useLeftmostIP", &useLeftmostIP)
    }

    func json(secrets: Bool) -> OrderedJSON {
        .members(["headers": .strings(headers), "useLeftmostIP": .bool(useLeftmostIP)])
    }
}

/// `POST /api/batch` (PocketBase's `batch`): whether it is allowed, how many requests one may carry,
/// and the largest body in bytes (0: the API's own limit). `timeout` is stored and answered.
public struct BatchSettings: SettingsSection {
    public var enabled = false
    public var maxRequests = 50
    public var timeout = 3
    public var maxBodySize = 0
    public init() {}

    mutating func apply(_ r: SettingsReader) throws(SettingsLoadError) {
        try r.bool("enabled", &enabled)
        try r.int("maxRequests", &maxRequests)
        try r.int("timeout", &timeout)
        try r.int("maxBodySize", &maxBodySize)
    }

    func json(secrets: Bool) -> OrderedJSON {
        .members(["enabled": .bool(enabled), "maxRequests": .int(maxRequests), "timeout": .int(timeout), "maxBodySize": .int(maxBodySize)])
    }
}

/// PocketBase's request log settings (`logs`); Burg stores and answers them.
public struct LogSettings: SettingsSection {
    public var maxDataSize = 0
    public var maxDays = 5
    public var minLevel = 0
    public var logIP = true
    public var logAuthId = false
    public init() {}

    mutating func apply(_ r: SettingsReader) throws(SettingsLoadError) {
        try r.int("maxDataSize", &maxDataSize)
        try r.int("maxDays", &maxDays)
        try r.int("minLevel", &minLevel)
        try r.bool("logIP", &logIP)
        try r.bool("logAuthId", &logAuthId)
    }

    func json(secrets: Bool) -> OrderedJSON {
        .members([
            "maxDataSize": .int(maxDataSize), "maxDays": .int(maxDays), "minLevel": .int(minLevel),
            "logIP": .bool(logIP), "logAuthId": .bool(logAuthId),
        ])
    }
}

/// The settings a mail sender reads at send time: a snapshot, consistent as a whole (the SMTP server
/// and the sender of one PATCH, never half of two). Read it from ``RuntimeSettings/mail`` for each
/// mail, so a change through `/api/settings` applies to the next mail without a restart.
public struct MailSettings: Sendable, Equatable {
    public var smtp: SMTPSettings
    public var meta: MetaSettings
}

/// A settings value of the wrong JSON type (`"port": "abc"`): PocketBase's 400 "An error occurred
/// while loading the submitted data.", and nothing is changed.
public struct SettingsLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key, sections separated by dots: `smtp.port`, `rateLimits.rules.0.label`.
    public var path: String
    public var expected: String
    public var description: String { "\(path) must be \(expected)" }
}

/// Reads the keys a settings object holds into a section's values, refusing a value of the wrong type.
/// A key that is absent or `null` leaves the value as it is (as PocketBase's JSON decoding does).
struct SettingsReader {
    let object: [String: JSONValue]
    let path: String

    /// nil for `null` (nothing to apply); throws for anything but an object.
    init?(_ value: JSONValue, path: String) throws(SettingsLoadError) {
        switch value {
        case .null: return nil
        case .object(let object): self.object = object
        default: throw SettingsLoadError(path: path, expected: "an object")
        }
        self.path = path
    }

    private func at(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    private func fail(_ key: String, _ expected: String) -> SettingsLoadError {
        SettingsLoadError(path: path + "." + key, expected: expected)
    }

    func bool(_ key: String, _ value: inout Bool) throws(SettingsLoadError) {
        guard let found = at(key) else { return }
        guard case .bool(let flag) = found else { throw fail(key, "true or false") }
        value = flag
    }

    func int(_ key: String, _ value: inout Int) throws(SettingsLoadError) {
        guard let found = at(key) else { return }
        // Whole numbers within ±2^53 (exact in a double, far beyond any setting's use).
        guard case .number(let number) = found, number == number.rounded(), abs(number) <= 9_007_199_254_740_992 else {
            throw fail(key, "a whole number")
        }
        value = Int(number)
    }

    func string(_ key: String, _ value: inout String) throws(SettingsLoadError) {
        guard let found = at(key) else { return }
        guard case .string(let text) = found else { throw fail(key, "a string") }
        value = text
    }

    func strings(_ key: String, _ value: inout [String]) throws(SettingsLoadError) {
        guard let found = at(key) else { return }
        try Self.strings(found, path: path + "." + key, into: &value)
    }

    static func strings(_ found: JSONValue, path: String, into value: inout [String]) throws(SettingsLoadError) {
        if found == .null { return }
        guard case .array(let items) = found else { throw SettingsLoadError(path: path, expected: "a list of strings") }
        var list: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw SettingsLoadError(path: path, expected: "a list of strings") }
            list.append(text)
        }
        value = list
    }

    func section<S: SettingsSection>(_ key: String, _ value: inout S) throws(SettingsLoadError) {
        guard let found = at(key), let reader = try SettingsReader(found, path: path + "." + key) else { return }
        try value.apply(reader)
    }

    /// A list of objects, replaced whole; each item starts from zero values, as PocketBase decodes it.
    func list<S: SettingsSection>(_ key: String, _ value: inout [S]) throws(SettingsLoadError) {
        guard let found = at(key) else { return }
        guard case .array(let items) = found else { throw fail(key, "a list of objects") }
        var list: [S] = []
        for (index, item) in items.enumerated() {
            var element = S()
            guard let reader = try SettingsReader(item, path: "\(path).\(key).\(index)") else { throw fail("\(key).\(index)", "an object") }
            try element.apply(reader)
            list.append(element)
        }
        value = list
    }
}
