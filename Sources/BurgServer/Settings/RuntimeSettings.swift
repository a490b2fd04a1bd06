import BurgRecords
import BurgStore
import Logging
import Synchronization

/// A setting of `/api/settings` that Burg's static configuration (a `burg serve` flag, a `BURG_*`
/// variable, `burg.json`) set explicitly: its value wins over what is stored, `GET` shows it, and a
/// `PATCH` that would change it is refused at its key, naming `origin`.
public struct SettingPin: Sendable, Equatable {
    /// The settings key, sections separated by dots (`batch.maxRequests`, `smtp.host`); a section's
    /// name (`rateLimits`) pins the whole section.
    public var path: String
    /// The value in the settings' JSON form (a whole section's object for a section).
    public var value: JSONValue
    /// Where it was set, as the refusal names it: `--batch-max-requests`, `BURG_SMTP_HOST`, `burg.json`.
    public var origin: String

    public init(path: String, value: JSONValue, origin: String) {
        self.path = path
        self.value = value
        self.origin = origin
    }

    var components: [String] { path.split(separator: ".").map(String.init) }
}

extension AppSettings {
    /// These settings with the pins' values in place.
    func pinned(_ pins: [SettingPin]) throws(SettingsLoadError) -> AppSettings {
        var result = self
        for pin in pins {
            var components = pin.components
            guard !components.isEmpty else { continue }
            let section = components.removeFirst()
            var value = pin.value
            for key in components.reversed() { value = .object([key: value]) }
            try result.apply(section: section, value)
        }
        return result
    }
}

/// The settings in force, read by every part that uses one at the moment of use: the rate limits, the
/// trusted proxy and the batch route on each request, a mail sender for each mail (``mail``). A change
/// through ``update(_:in:)`` is stored first, then replaces the snapshot at once; readers see the old
/// settings or the new ones as a whole, never a mixture. Reading costs one lock and one reference.
public final class RuntimeSettings: Sendable {
    /// One consistent state of the settings and what is computed from them once per change.
    final class Snapshot: Sendable {
        let settings: AppSettings
        /// The save it came from (0: nothing stored yet); a slower writer's older save never replaces a newer one.
        let version: Int
        let rateLimits: RateLimitPlan
        let superuserRanges: [IPAddressRange]

        init(_ settings: AppSettings, version: Int) {
            self.settings = settings
            self.version = version
            rateLimits = RateLimitPlan(settings.rateLimits)
            superuserRanges = settings.superuserIPs.compactMap(IPAddressRange.init)
        }
    }

    /// What an installation starts from before anything is stored (Burg's defaults, see ``AppSettings/burg``).
    public let defaults: AppSettings
    public let pins: [SettingPin]
    private let state: Mutex<Snapshot>
    private let logger: Logger

    /// Settings that hold `defaults` with `pins` in place until ``load(from:)`` reads what is stored.
    /// A pin whose value does not fit its key is left out (and logged).
    public init(defaults: AppSettings = .burg, pins: [SettingPin] = [], logger: Logger = Logger(label: "burg.settings")) {
        var usable: [SettingPin] = []
        for pin in pins {
            do {
                _ = try defaults.pinned([pin])
                usable.append(pin)
            } catch {
                logger.error("a static setting does not fit /api/settings and is ignored", metadata: ["path": "\(pin.path)", "error": "\(error)"])
            }
        }
        self.defaults = defaults
        self.pins = usable
        self.logger = logger
        state = Mutex(Snapshot((try? defaults.pinned(usable)) ?? defaults, version: 0))
    }

    var snapshot: Snapshot { state.withLock { $0 } }

    /// The settings in force.
    public var current: AppSettings { snapshot.settings }

    /// The SMTP server and sender in force, for the mail about to be sent.
    public var mail: MailSettings { snapshot.settings.mail }

    /// Reads what is stored (sections that do not read are logged and left at their defaults).
    public func load(from store: Store) async throws {
        let stored = try await store.read { db in try StoredSettings.read(db) }
        let settings = effective(stored)
        install(Snapshot(settings, version: stored.version))
    }

    /// Applies a `PATCH /api/settings` body: each section it holds is merged into the settings in force
    /// (keys left out keep their values, lists are replaced whole; unknown sections are ignored),
    /// validated as PocketBase validates it, checked against the pins, stored, and in force when this
    /// returns. Throws ``SettingsLoadError`` for a value of the wrong type and an `APIError` with every
    /// field error for invalid values; either way nothing is changed.
    public func update(_ patch: [String: JSONValue], in store: Store) async throws -> AppSettings {
        let defaults = self.defaults
        let pins = self.pins
        let sent = AppSettings.sectionNames.filter { patch[$0] != nil }
        let (settings, version) = try await store.write { db -> (AppSettings, Int) in
            // Merged onto what is stored now, inside the write transaction: two changes at once (from any
            // process) each keep the other's sections.
            let stored = try StoredSettings.read(db)
            let before = try Self.effective(stored, defaults: defaults, pins: pins) { _, _ in }
            var next = before
            for name in sent {
                try next.apply(section: name, patch[name] ?? .null)
            }
            var errors = next.validate()
            for pin in pins {
                if try next.pinned([pin]) != next {
                    errors.add(pin.components, "validation_pinned", "Set by \(pin.origin); change or remove it there to change it here.")
                }
            }
            guard errors.isEmpty else { throw errors.apiError }
            guard !sent.isEmpty, next != before else { return (next, stored.version) }
            let version = stored.version + 1
            var sections: [String: JSONValue] = [:]
            for name in sent { sections[name] = next.section(name, secrets: true).plain }
            try StoredSettings.write(sections, version: version, db)
            return (next, version)
        }
        install(Snapshot(settings, version: version))
        return settings
    }

    private func install(_ snapshot: Snapshot) {
        state.withLock { current in
            if snapshot.version >= current.version { current = snapshot }
        }
    }

    private func effective(_ stored: StoredSettings) -> AppSettings {
        let logger = self.logger
        return (try? Self.effective(stored, defaults: defaults, pins: pins) { section, error in
            logger.error("a stored settings section does not read and is left at its defaults", metadata: ["section": "\(section)", "error": "\(error)"])
        }) ?? defaults
    }

    /// `defaults`, with each stored section applied, then the pins.
    private static func effective(
        _ stored: StoredSettings, defaults: AppSettings, pins: [SettingPin], skipped: (String, SettingsLoadError) -> Void
    ) throws(SettingsLoadError) -> AppSettings {
        var settings = defaults
        for name in AppSettings.sectionNames {
            guard let value = stored.sections[name] else { continue }
            var attempt = settings
            do {
                try attempt.apply(section: name, value)
                settings = attempt
            } catch {
                skipped(name, error)
            }
        }
        return try settings.pinned(pins)
    }
}

extension AppSettings {
    /// Burg's defaults: PocketBase's, except that batches and rate limits are on (``RateLimitSettings/burg``).
    public static var burg: AppSettings {
        var settings = AppSettings()
        settings.batch.enabled = true
        settings.rateLimits = .burg
        return settings
    }
}
