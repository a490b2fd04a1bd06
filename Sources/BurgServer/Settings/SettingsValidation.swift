import BurgJobs
import BurgRecords
import Foundation

/// Field errors of a settings change, nested as PocketBase nests them: `data.<section>.<key>`, list
/// items by position (`data.rateLimits.rules.0.label`). The first error of a key is kept, as
/// PocketBase's validators stop at a key's first failing rule.
struct SettingsErrors: Sendable, Equatable {
    private(set) var tree: [String: JSONValue] = [:]
    var isEmpty: Bool { tree.isEmpty }

    mutating func add(_ path: [String], _ code: String, _ message: String, params: [String: JSONValue] = [:]) {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if !params.isEmpty { error["params"] = .object(params) }
        Self.insert(.object(error), at: path[...], into: &tree)
    }

    /// Whether `path` already has an error.
    func has(_ path: [String]) -> Bool {
        var node: JSONValue = .object(tree)
        for key in path {
            guard case .object(let object) = node, let next = object[key] else { return false }
            node = next
        }
        return true
    }

    private static func insert(_ error: JSONValue, at path: ArraySlice<String>, into tree: inout [String: JSONValue]) {
        guard let key = path.first else { return }
        if path.count == 1 {
            if tree[key] == nil { tree[key] = error }
            return
        }
        var child: [String: JSONValue] = [:]
        if case .object(let existing)? = tree[key] {
            // An error already at this key itself (not a subtree): keep it.
            if existing["code"] != nil, existing["message"] != nil, case .string? = existing["code"] { return }
            child = existing
        }
        insert(error, at: path.dropFirst(), into: &child)
        tree[key] = .object(child)
    }

    /// PocketBase's 400 for settings that fail validation.
    var apiError: APIError {
        var error = APIError(.badRequest, "An error occurred while saving the new settings.")
        error.nestedData = tree
        return error
    }
}

/// PocketBase's checks of each settings section (its `Validate` methods), with its codes, messages and
/// params. Checks that depend on another key (`host` is required when `enabled`) read the values after
/// the change, as PocketBase validates the merged settings.
extension AppSettings {
    func validate() -> SettingsErrors {
        var errors = SettingsErrors()
        var check = SettingsCheck(errors: errors)
        for (index, ip) in superuserIPs.enumerated() { check.ipOrSubnet(["superuserIPs", String(index)], ip) }

        check.required(["meta", "appName"], meta.appName)
        check.length(["meta", "appName"], meta.appName, 1...255)
        check.required(["meta", "appURL"], meta.appURL)
        check.url(["meta", "appURL"], meta.appURL)
        check.required(["meta", "senderName"], meta.senderName)
        check.length(["meta", "senderName"], meta.senderName, 1...255)
        check.email(["meta", "senderAddress"], meta.senderAddress)
        check.required(["meta", "senderAddress"], meta.senderAddress)

        check.min(["logs", "maxDays"], logs.maxDays, 0)

        if smtp.enabled { check.required(["smtp", "host"], smtp.host) }
        check.host(["smtp", "host"], smtp.host)
        if smtp.enabled { check.required(["smtp", "port"], smtp.port) }
        check.min(["smtp", "port"], smtp.port, 0)
        check.oneOf(["smtp", "authMethod"], smtp.authMethod, ["PLAIN", "LOGIN"])
        check.host(["smtp", "localName"], smtp.localName)

        check.s3(["s3"], s3)
        check.s3(["backups", "s3"], backups.s3)
        if !backups.cron.isEmpty, (try? CronExpression(backups.cron)) == nil {
            check.errors.add(["backups", "cron"], "validation_invalid_cron",
                             "Invalid cron expression - must be a valid macro or to have exactly 5 space separated segments.")
        }
        if !backups.cron.isEmpty { check.required(["backups", "cronMaxKeep"], backups.cronMaxKeep) }
        check.min(["backups", "cronMaxKeep"], backups.cronMaxKeep, 1)

        if batch.enabled { check.required(["batch", "maxRequests"], batch.maxRequests) }
        check.min(["batch", "maxRequests"], batch.maxRequests, 0)
        if batch.enabled { check.required(["batch", "timeout"], batch.timeout) }
        check.min(["batch", "timeout"], batch.timeout, 0)
        check.min(["batch", "maxBodySize"], batch.maxBodySize, 0)

        if rateLimits.enabled && rateLimits.rules.isEmpty {
            check.errors.add(["rateLimits", "rules"], "validation_required", "Cannot be blank.")
        }
        for (index, rule) in rateLimits.rules.enumerated() {
            let at = ["rateLimits", "rules", String(index)]
            check.required(at + ["label"], rule.label)
            if !rule.label.isEmpty, !RateLimitLabel.isValid(rule.label) {
                check.errors.add(at + ["label"], "validation_match_invalid", "Must be in a valid format.")
            }
            check.required(at + ["maxRequests"], rule.maxRequests)
            check.min(at + ["maxRequests"], rule.maxRequests, 1)
            check.required(at + ["duration"], rule.duration)
            check.min(at + ["duration"], rule.duration, 1)
            check.oneOf(at + ["audience"], rule.audience, ["", "@guest", "@auth"])
        }
        if let conflict = rateLimits.firstConflict, !check.errors.has(["rateLimits", "rules", String(conflict)]) {
            let label = rateLimits.rules[conflict].label
            check.errors.add(["rateLimits", "rules", String(conflict), "label"], "validation_conflicting_rate_limit_rule",
                             "Rate limit rule configuration with label \(label) already exists or conflicts with another rule.",
                             params: ["label": .string(label)])
        }
        for (index, ip) in rateLimits.excludedIPs.enumerated() { check.ipOrSubnet(["rateLimits", "excludedIPs", String(index)], ip) }
        errors = check.errors
        return errors
    }
}

extension RateLimitSettings {
    /// The position of the first rule whose label and audience repeat or overlap an earlier one's
    /// (PocketBase compares `label@@audience` by prefix: `*:auth` for everyone and `*:auth` for
    /// `@guest` conflict).
    var firstConflict: Int? {
        var seen: [String] = []
        for (index, rule) in rules.enumerated() {
            let key = rule.label + "@@" + rule.audience
            if seen.contains(where: { $0.hasPrefix(key) || key.hasPrefix($0) }) { return index }
            seen.append(key)
        }
        return nil
    }
}

/// PocketBase's field rules as Burg checks them; each adds at most the first error of a key.
struct SettingsCheck {
    var errors: SettingsErrors

    mutating func required(_ path: [String], _ text: String) {
        if text.isEmpty { errors.add(path, "validation_required", "Cannot be blank.") }
    }

    mutating func required(_ path: [String], _ number: Int) {
        if number == 0 { errors.add(path, "validation_required", "Cannot be blank.") }
    }

    /// Zero counts as empty and passes, as in PocketBase (a required check catches it where needed).
    mutating func min(_ path: [String], _ number: Int, _ threshold: Int) {
        if number != 0, number < threshold {
            errors.add(path, "validation_min_greater_equal_than_required", "Must be no less than \(threshold).",
                       params: ["threshold": .number(Double(threshold))])
        }
    }

    mutating func length(_ path: [String], _ text: String, _ range: ClosedRange<Int>) {
        let count = text.count
        if !text.isEmpty, !range.contains(count) {
            errors.add(path, "validation_length_out_of_range", "The length must be between \(range.lowerBound) and \(range.upperBound).",
                       params: ["min": .number(Double(range.lowerBound)), "max": .number(Double(range.upperBound))])
        }
    }

    mutating func oneOf(_ path: [String], _ text: String, _ allowed: [String]) {
        if !text.isEmpty, !allowed.contains(text) { errors.add(path, "validation_in_invalid", "Must be a valid value.") }
    }

    mutating func url(_ path: [String], _ text: String) {
        if !text.isEmpty, !SettingsFormat.isURL(text) { errors.add(path, "validation_is_url", "Must be a valid URL.") }
    }

    mutating func email(_ path: [String], _ text: String) {
        if !text.isEmpty, !SettingsFormat.isEmail(text) { errors.add(path, "validation_is_email", "Must be a valid email address.") }
    }

    mutating func host(_ path: [String], _ text: String) {
        if !text.isEmpty, !SettingsFormat.isHost(text) {
            errors.add(path, "validation_is_host", "Must be a valid IP address or DNS name.")
        }
    }

    mutating func ipOrSubnet(_ path: [String], _ text: String) {
        // PocketBase's code, spelled as it sends it.
        if !text.isEmpty, IPAddressRange(text) == nil { errors.add(path, "validation_invlaid_ip_or_subnet", "Invalid IP or CIDR subnet.") }
    }

    mutating func s3(_ path: [String], _ s3: S3Settings) {
        url(path + ["endpoint"], s3.endpoint)
        guard s3.enabled else { return }
        required(path + ["endpoint"], s3.endpoint)
        required(path + ["bucket"], s3.bucket)
        required(path + ["region"], s3.region)
        required(path + ["accessKey"], s3.accessKey)
        required(path + ["secret"], s3.secret)
    }
}

/// The forms PocketBase's validators accept, as far as a settings value needs them.
enum SettingsFormat {
    /// An absolute URL with a scheme and a host, no spaces (`http://localhost:8090`, `https://x.example.com/app`).
    static func isURL(_ text: String) -> Bool {
        guard !text.contains(where: \.isWhitespace), let components = URLComponents(string: text),
              let scheme = components.scheme, !scheme.isEmpty, let host = components.host, !host.isEmpty else { return false }
        return true
    }

    /// `local@domain`: one `@`, both sides non-empty, no spaces, a domain of host labels.
    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64, !text.contains(where: \.isWhitespace) else { return false }
        return isHost(String(parts[1])) && parts[1].contains(".")
    }

    /// An IP address or a DNS name (labels of letters, digits and `-`, not starting or ending with `-`).
    static func isHost(_ text: String) -> Bool {
        if IPAddressRange.address(text) != nil { return true }
        guard text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }
        }
    }
}
