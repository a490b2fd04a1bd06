import BurgAuth
import Foundation
import HTTPTypes

extension RateLimitSettings {
    /// Burg's rules, on by default: per client address, generous enough for an office of a few hundred
    /// people behind one NAT address, tight enough to hold a flood or password spraying from one
    /// address (the lockout per identity and per address holds guessing). docs/OPERATIONS.md explains
    /// the numbers.
    public static var burg: RateLimitSettings {
        var settings = RateLimitSettings()
        settings.enabled = true
        settings.rules = [
            // 100 at once, then 2 a second: the bcrypt work one address can cause stays a few percent of a core.
            RateLimitRule(label: "*:auth", duration: 50, maxRequests: 100),
            RateLimitRule(label: "*:create", duration: 10, maxRequests: 300),
            RateLimitRule(label: "/api/batch", duration: 10, maxRequests: 100),
            RateLimitRule(label: "/api/", duration: 30, maxRequests: 3000),
        ]
        return settings
    }
}

/// PocketBase's rate limit labels: `METHOD /path`, `/path` (a prefix when it ends in `/`),
/// `collection:action`, `*:action`, or a plain tag.
enum RateLimitLabel {
    static func isValid(_ label: String) -> Bool {
        func word<S: StringProtocol>(_ text: S) -> Bool {
            !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
        }
        func path<S: StringProtocol>(_ text: S) -> Bool {
            text.first == "/" && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_/-".unicodeScalars.contains($0)) }
        }
        if path(label) || word(label) { return true }
        let spaced = label.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        if spaced.count == 2 { return word(spaced[0]) && path(spaced[1]) }
        let tagged = label.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if tagged.count == 2 { return (tagged[0] == "*" || word(tagged[0])) && word(tagged[1]) }
        return false
    }

    /// What a request is, as rule labels name it: the collection and actions of a collection route
    /// (PocketBase's tags: `create`, `authWithPassword` and `auth`, `authRefresh`, …), nil elsewhere.
    static func tags(method: HTTPRequest.Method, path: String) -> (collection: String, actions: [String])? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // "", "api", "collections", {c}, …
        guard parts.count >= 5, parts[0].isEmpty, parts[1] == "api", parts[2] == "collections", !parts[3].isEmpty else { return nil }
        let collection = parts[3].removingPercentEncoding ?? String(parts[3])
        let rest = parts[4...].map(String.init)
        let actions: [String]
        switch (method, rest.first, rest.count) {
        case (.get, "records", 1): actions = ["list"]
        case (.post, "records", 1): actions = ["create"]
        case (.get, "records", 2): actions = ["view"]
        case (.patch, "records", 2): actions = ["update"]
        case (.delete, "records", 2): actions = ["delete"]
        case (.post, "auth-with-password", 1): actions = ["authWithPassword", "auth"]
        case (.post, "auth-with-oauth2", 1): actions = ["authWithOAuth2", "auth"]
        case (.post, "auth-with-otp", 1): actions = ["authWithOTP", "auth"]
        case (.post, "auth-refresh", 1): actions = ["authRefresh"]
        case (.get, "auth-methods", 1): actions = ["listAuthMethods"]
        case (.post, "request-otp", 1): actions = ["requestOTP"]
        case (.post, "request-verification", 1): actions = ["requestVerification"]
        case (.post, "confirm-verification", 1): actions = ["confirmVerification"]
        case (.post, "request-password-reset", 1): actions = ["requestPasswordReset"]
        case (.post, "confirm-password-reset", 1): actions = ["confirmPasswordReset"]
        case (.post, "request-email-change", 1): actions = ["requestEmailChange"]
        case (.post, "confirm-email-change", 1): actions = ["confirmEmailChange"]
        default: return nil
        }
        return (collection, actions)
    }
}

/// The rules of one `rateLimits` setting, ready for the request path: each rule a token bucket per
/// client address (holding `maxRequests`, refilled evenly over `duration` seconds). Built once per
/// change of the setting; a change starts every bucket afresh, as in PocketBase.
final class RateLimitPlan: Sendable {
    let enabled: Bool
    let rules: [RateLimitRule]
    private let limiters: [RateLimiter]
    private let excluded: [IPAddressRange]

    init(_ settings: RateLimitSettings) {
        enabled = settings.enabled
        rules = settings.rules
        limiters = settings.rules.map { rule in
            RateLimiter(capacity: max(1, rule.maxRequests), refillPerSecond: Double(max(1, rule.maxRequests)) / Double(max(1, rule.duration)))
        }
        excluded = settings.excludedIPs.compactMap(IPAddressRange.init)
    }

    /// The rule that applies, most specific first: `collection:action`, `*:action` (each action in the
    /// route's order), `METHOD /path`, `/path`, then the longest prefix rule (ending in `/`) of
    /// `METHOD /path` or `/path`. Only rules for the caller's audience are considered.
    func rule(method: HTTPRequest.Method, path: String, authenticated: Bool) -> (index: Int, scope: String)? {
        let audiences = authenticated ? ["", "@auth"] : ["", "@guest"]
        var labels: [(label: String, scope: String)] = []
        if let tags = RateLimitLabel.tags(method: method, path: path) {
            // A collection rule counts per collection and route, as PocketBase keys it.
            let scope = tags.collection + "|" + tags.actions.joined(separator: ",")
            labels += tags.actions.map { (tags.collection + ":" + $0, scope) }
            labels += tags.actions.map { ("*:" + $0, scope) }
        }
        let paths = [method.rawValue + " " + path, path]
        labels += paths.map { ($0, "") }
        for (label, scope) in labels {
            if let index = rules.firstIndex(where: { $0.label == label && audiences.contains($0.audience) }) { return (index, scope) }
        }
        var best: (index: Int, length: Int)?
        for (index, rule) in rules.enumerated() where rule.label.hasSuffix("/") && audiences.contains(rule.audience) {
            if paths.contains(where: { ($0 + "/").hasPrefix(rule.label) }), rule.label.count > (best?.length ?? -1) {
                best = (index, rule.label.count)
            }
        }
        return best.map { ($0.index, "") }
    }

    /// Takes a request from the bucket of the rule that applies to it; nil when it may pass.
    func limit(method: HTTPRequest.Method, path: String, authenticated: Bool, clientIP: String) -> Duration? {
        guard enabled, !excluded.contains(where: { $0.contains(clientIP) }),
              let (index, scope) = rule(method: method, path: path, authenticated: authenticated) else { return nil }
        if case .limited(let retryAfter) = limiters[index].take(scope + "|" + clientIP) { return retryAfter }
        return nil
    }
}

