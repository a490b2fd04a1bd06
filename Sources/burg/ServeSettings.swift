import BurgAuth
import BurgBench
import BurgCore
import BurgJobs
import BurgRecords
import BurgServer
import BurgStore
import Foundation
import Logging
import SystemPackage

/// Everything `burg serve` runs with, each configuration struct filled from one ``BurgSettings``.
///
/// Building it is the last check before anything exists: a value out of range, of the wrong form or
/// naming a missing directory throws a `BurgError` here, before the data directory is created.
struct ServeSettings: Sendable {
    var http: HTTPAddress
    var server = ServerConfiguration()
    var auth = AuthSettings()
    var store: StoreConfiguration
    var maintenance = StoreMaintenance.Configuration()
    var workers: WorkerOptions
    var logLevel: Logger.Level
    var bench: BenchConfiguration
    let settings: BurgSettings

    init(_ settings: BurgSettings, dataDirectory: FilePath) throws {
        self.settings = settings
        let s = settings
        let address = s.text("server.http") ?? ""
        do {
            http = try HTTPAddress.parse(address)
        } catch {
            throw s.refuse("server.http", address, "not HOST:PORT such as 127.0.0.1:8090")
        }
        server.host = http.host
        server.port = http.port
        let origins = s.text("server.origins") ?? "*"
        guard let allowed = AllowedOrigins(list: origins) else {
            throw s.refuse("server.origins", origins, "it takes * or a comma-separated list of origins such as https://app.example.com (scheme and host, no path)")
        }
        server.allowedOrigins = allowed
        server.publicDirectory = try Self.publicDirectory(s, dataDirectory: dataDirectory)
        server.indexFallback = try s.boolean("server.indexFallback")
        server.maxUploadSize = try s.integer("server.maxUpload") << 20
        server.batchMaxRequests = try s.integer("server.batchMaxRequests")
        server.authBurst = try s.integer("auth.burst")
        server.authRefillPerSecond = try s.number("auth.refill")
        // Unset: Burg's default `/api/` rule; set (0 too): this rate.
        server.rateLimit = s.source(of: "rateLimit.perSecond") == .default ? nil : try s.number("rateLimit.perSecond")
        server.rateBurst = try s.integer("rateLimit.burst")
        server.rateLimitsEnabled = try s.boolean("rateLimit.enabled")
        server.settingsPins = try Self.settingsPins(s, defaults: server.settingsDefaults)
        server.healthInterval = .milliseconds(Int64(try s.number("health.interval") * 1000))

        auth.bcryptCost = try s.integer("auth.bcryptCost")
        auth.lockout.maxFailures = try s.integer("auth.lockoutAfter")
        let lockout = Duration.seconds(try s.integer("auth.lockoutMinutes") * 60)
        auth.lockout.lockoutDuration = lockout
        auth.lockout.window = lockout

        workers = WorkerOptions(
            count: try s.integer("workers.count"), concurrency: try s.integer("workers.concurrency"),
            backoff: try s.number("workers.backoff"), maxBackoff: try s.number("workers.maxBackoff"),
            lease: try s.number("workers.lease"), crashLimit: try s.integer("workers.crashLimit"))

        let level = s.text("logs.level") ?? "info"
        guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
            throw s.refuse("logs.level", level, "it takes trace, debug, info, notice, warning, error or critical")
        }
        logLevel = parsed

        store = StoreConfiguration(dataDirectory: dataDirectory)
        let synchronous = s.text("store.synchronous") ?? ""
        guard let mode = StoreConfiguration.Synchronous(rawValue: synchronous) else {
            throw s.refuse("store.synchronous", synchronous, "it takes normal or full")
        }
        store.synchronous = mode
        store.busyTimeout = .seconds(try s.number("store.busyTimeout"))
        store.retry.deadline = .seconds(try s.number("store.retryDeadline"))
        store.cacheSizeKiB = try s.integer("store.cacheSize")
        store.mmapSize = try s.integer("store.mmapSize")
        store.walSizeLimit = try s.integer("store.walSizeLimit")
        store.maxReaders = try s.integer("store.maxReaders")
        let slow = try s.number("store.slowRead")
        store.slowReadThreshold = slow > 0 ? .seconds(slow) : nil
        store.allowNetworkFileSystem = try s.boolean("store.allowNetworkFileSystem")
        maintenance.checkpointInterval = .seconds(try s.number("store.checkpointInterval"))
        maintenance.optimizeInterval = .seconds(try s.number("store.optimizeInterval"))

        bench = BenchConfiguration(settings: s)
    }

    /// Static settings that pin a key of `/api/settings` when set by flag, environment or file: the
    /// setting's key, and the settings key it pins (nil: the key of the same name, e.g. `smtp.host`,
    /// whose value is the setting's own). One line per setting.
    static let settingsPinTable: [(setting: String, path: String?)] = [
        ("server.batchMaxRequests", "batch.maxRequests"),
        // The rate limit numbers of the older flags are written into the rules, which they then pin.
        ("auth.burst", "rateLimits.rules"),
        ("auth.refill", "rateLimits.rules"),
        ("rateLimit.perSecond", "rateLimits.rules"),
        ("rateLimit.burst", "rateLimits.rules"),
        ("rateLimit.enabled", "rateLimits.enabled"),
    ]

    /// The pins of the settings that were set explicitly; a pin's value is read from the settings
    /// key of the same name, or from `defaults` (which this configuration filled) at the pinned key.
    static func settingsPins(_ settings: BurgSettings, defaults: AppSettings) throws -> [SettingPin] {
        var pins: [SettingPin] = []
        let values = defaults.settingsJSON
        for (key, path) in settingsPinTable {
            let source = settings.source(of: key)
            guard source != .default, let setting = SettingKey.named(key) else { continue }
            let target = path ?? key
            guard !pins.contains(where: { $0.path == target }) else { continue }
            let value: JSONValue
            if path == nil {
                switch setting.kind {
                case .integer: value = .number(Double(try settings.integer(key)))
                case .number: value = .number(try settings.number(key))
                case .boolean: value = .bool(try settings.boolean(key))
                case .text: value = settings.text(key).map(JSONValue.string) ?? .null
                case .textList: value = .array((settings.textList(key) ?? []).map(JSONValue.string))
                }
            } else {
                value = target.split(separator: ".").reduce(values) { node, component in
                    if case .object(let object) = node { object[String(component)] ?? .null } else { .null }
                }
            }
            let origin = switch source {
            case .flag: setting.flag ?? key
            case .environment: setting.environmentVariable
            case .file: settings.filePath?.lastComponent?.string ?? "burg.json"
            case .default: key
            }
            pins.append(SettingPin(path: target, value: value, origin: origin))
        }
        return pins
    }

    /// The store as `serve` opens it: commits never checkpoint, ``StoreMaintenance`` does, beside the
    /// writer, every `store.checkpointInterval`.
    var servedStore: StoreConfiguration {
        var configuration = store
        configuration.autoCheckpointPages = 0
        return configuration
    }

    /// `server.publicDir`, which must be a directory; else `burg_public` beside the data directory when it
    /// exists; else none.
    private static func publicDirectory(_ settings: BurgSettings, dataDirectory: FilePath) throws -> String? {
        var isDirectory: ObjCBool = false
        if let publicDir = settings.text("server.publicDir") {
            guard FileManager.default.fileExists(atPath: publicDir, isDirectory: &isDirectory), isDirectory.boolValue else {
                let message = settings.source(of: "server.publicDir") == .flag
                    ? "--public-dir \(publicDir) is not a directory; create it or leave the option out"
                    : settings.refuse("server.publicDir", publicDir, "not a directory; create it or remove the setting").message
                throw CLIInputError(message: message, exitCode: ExitStatus.noInput)
            }
            return publicDir
        }
        let absolute = dataDirectory.isAbsolute ? dataDirectory : FilePath(FileManager.default.currentDirectoryPath).pushing(dataDirectory)
        let beside = absolute.lexicallyNormalized().removingLastComponent().appending("burg_public").string
        return FileManager.default.fileExists(atPath: beside, isDirectory: &isDirectory) && isDirectory.boolValue ? beside : nil
    }

    /// Every setting's effective value, read back from the configuration structs, in the units of its key.
    var effectiveValues: [String: Any] {
        let origins: String = switch server.allowedOrigins {
        case .any: "*"
        case .only(let list): list.joined(separator: ",")
        }
        let values: [String: Any] = [
            "server.http": http.description,
            "server.origins": origins,
            "server.publicDir": Self.orNull(server.publicDirectory),
            "server.indexFallback": server.indexFallback,
            "server.maxUpload": server.maxUploadSize >> 20,
            "server.batchMaxRequests": server.batchMaxRequests,
            "auth.burst": server.authBurst,
            "auth.refill": server.authRefillPerSecond,
            "auth.bcryptCost": auth.bcryptCost,
            "auth.lockoutAfter": auth.lockout.maxFailures,
            "auth.lockoutMinutes": Int(auth.lockout.lockoutDuration.seconds / 60),
            "rateLimit.perSecond": server.rateLimit ?? 0,
            "rateLimit.burst": server.rateBurst,
            "rateLimit.enabled": server.rateLimitsEnabled,
            "workers.count": workers.count,
            "workers.concurrency": workers.concurrency,
            "workers.backoff": workers.backoff,
            "workers.maxBackoff": workers.maxBackoff,
            "workers.lease": workers.lease,
            "workers.crashLimit": workers.crashLimit,
            "health.interval": server.healthInterval.seconds,
            "logs.level": logLevel.rawValue,
            "store.synchronous": store.synchronous.rawValue,
            "store.busyTimeout": store.busyTimeout.seconds,
            "store.retryDeadline": store.retry.deadline.seconds,
            "store.cacheSize": store.cacheSizeKiB,
            "store.mmapSize": store.mmapSize,
            "store.walSizeLimit": store.walSizeLimit,
            "store.maxReaders": store.maxReaders,
            "store.slowRead": store.slowReadThreshold?.seconds ?? 0,
            "store.checkpointInterval": maintenance.checkpointInterval.seconds,
            "store.optimizeInterval": maintenance.optimizeInterval.seconds,
            "store.allowNetworkFileSystem": store.allowNetworkFileSystem,
            "bench.allowedTargets": bench.allowedTargets.map(\.string),
            "bench.fioPath": Self.orNull(bench.fioPath?.string),
        ]
        precondition(Set(values.keys) == Set(SettingKey.all.map(\.key)), "effectiveValues and SettingKey.all list different keys")
        return values
    }

    private static func orNull(_ text: String?) -> Any {
        guard let text else { return NSNull() }
        return text
    }

    /// `--print-config`: `{"configFile": …, "settings": {"store.busyTimeout": {"value": 5, "source":
    /// "default", "environment": "BURG_STORE_BUSY_TIMEOUT", "flag": "--busy-timeout", "type": …,
    /// "default": "5"}, …}}`: what runs, why, and how to change it.
    var effectiveJSON: String {
        let values = effectiveValues
        var entries: [String: Any] = [:]
        for setting in SettingKey.all {
            entries[setting.key] = [
                "value": values[setting.key] ?? NSNull() as Any, "source": settings.source(of: setting.key).rawValue,
                "environment": setting.environmentVariable, "flag": Self.orNull(setting.flag),
                "type": setting.typeDescription, "default": Self.orNull(setting.defaultValue),
            ] as [String: Any]
        }
        let object: [String: Any] = ["configFile": Self.orNull(settings.filePath?.string), "settings": entries]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// `serve --workers N` and how the supervisor treats them.
struct WorkerOptions: Sendable, Equatable {
    var count: Int
    var concurrency: Int
    var backoff: Double
    var maxBackoff: Double
    var lease: Double
    var crashLimit: Int

    /// The supervisor's configuration for `burg worker` processes of this very binary on `dataDirectory`;
    /// nil for no workers.
    func supervision(dataDirectory: String) -> WorkerSupervisor.Configuration? {
        guard count > 0 else { return nil }
        // This very binary, wherever it was started from.
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var supervision = WorkerSupervisor.Configuration(
            workers: count, executable: executable,
            arguments: ["worker", "--data-dir", dataDirectory, "--concurrency", "\(concurrency)", "--lease", "\(lease)"])
        supervision.initialBackoff = .milliseconds(Int64(backoff * 1000))
        supervision.maxBackoff = .milliseconds(Int64(maxBackoff * 1000))
        supervision.crashLimit = crashLimit
        return supervision
    }
}

extension BenchConfiguration {
    /// `bench.allowedTargets` and `bench.fioPath`.
    init(settings: BurgSettings) {
        self.init()
        allowedTargets = (settings.textList("bench.allowedTargets") ?? []).map { FilePath($0) }
        fioPath = settings.text("bench.fioPath").map { FilePath($0) }
    }
}
