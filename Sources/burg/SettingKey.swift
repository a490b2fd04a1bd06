import BurgAuth
import BurgJobs
import BurgStore
import Configuration

/// One setting Burg reads: its key in `burg.json`, its `BURG_*` environment variable, its flag, what it
/// accepts and its default. ``all`` is the one list of them; docs/OPERATIONS.md's table of settings is
/// tested against it both ways, and ``BurgSettings`` refuses a key of `burg.json` that is not in it.
struct SettingKey: Sendable, Equatable {
    /// What a value must be. The ranges are the ones the flags are checked against (``OptionRange``).
    enum Kind: Sendable, Equatable {
        case integer(ClosedRange<Int>)
        case number(ClosedRange<Double>)
        case boolean
        /// Any string; the setting's reader checks its form (an address, a choice, a path).
        case text
        /// A list of strings (a JSON array; a comma-separated environment variable).
        case textList
    }

    /// The key in `burg.json`, sections separated by dots: `store.busyTimeout`.
    let key: String
    /// The `burg serve` flag that overrides it, if any.
    let flag: String?
    let kind: Kind
    /// What a number counts ("seconds", "MiB"), for messages.
    let unit: String
    /// The default as the docs and `--print-config` show it; nil: none.
    let defaultValue: String?

    /// `BURG_STORE_BUSY_TIMEOUT` for `store.busyTimeout`: each camelCase word boundary becomes `_`.
    var environmentVariable: String {
        var name = "BURG"
        for component in key.split(separator: ".") {
            name += "_"
            var previous: Character?
            for character in component {
                if let previous, previous.isLowercase, character.isUppercase { name += "_" }
                name += character.uppercased()
                previous = character
            }
        }
        return name
    }

    /// The type column of the docs' table: `integer 1–1024`, `number 0–3600`, `boolean`, `string`,
    /// `list of strings`.
    var typeDescription: String {
        switch kind {
        case .integer(let range): "integer \(range.lowerBound)–\(range.upperBound)"
        case .number(let range): "number \(Self.plain(range.lowerBound))–\(Self.plain(range.upperBound))"
        case .boolean: "boolean"
        case .text: "string"
        case .textList: "list of strings"
        }
    }

    /// What a value must be, in words: "a number from 0 to 3600 seconds", "true or false".
    var expectation: String {
        let unit = unit.isEmpty ? "" : " " + unit
        return switch kind {
        case .integer(let range): "an integer from \(range.lowerBound) to \(range.upperBound)\(unit)"
        case .number(let range): "a number from \(Self.plain(range.lowerBound)) to \(Self.plain(range.upperBound))\(unit)"
        case .boolean: "true or false"
        case .text: "a string"
        case .textList: "a list of strings"
        }
    }

    /// `300.0` as `300`, `0.5` as `0.5`.
    static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func named(_ key: String) -> SettingKey? { byKey[key] }
    private static let byKey = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    private static let store = StoreConfiguration(dataDirectory: ".")
    private static let maintenance = StoreMaintenance.Configuration()
    private static let day = 86_400.0

    /// Every setting, grouped by section.
    static let all: [SettingKey] = [
        SettingKey(key: "server.http", flag: "--http", kind: .text, unit: "", defaultValue: "127.0.0.1:8090"),
        SettingKey(key: "server.origins", flag: "--origins", kind: .text, unit: "", defaultValue: "*"),
        SettingKey(key: "server.publicDir", flag: "--public-dir", kind: .text, unit: "", defaultValue: nil),
        SettingKey(key: "server.indexFallback", flag: "--index-fallback", kind: .boolean, unit: "", defaultValue: "true"),
        // MiB, shifted into bytes: 1 TiB at most keeps `maxUpload << 20` far from overflow.
        SettingKey(key: "server.maxUpload", flag: "--max-upload", kind: .integer(1...(1 << 20)), unit: "MiB", defaultValue: "1024"),
        SettingKey(key: "server.batchMaxRequests", flag: "--batch-max-requests", kind: .integer(0...10_000), unit: "requests", defaultValue: "50"),
        SettingKey(key: "auth.burst", flag: "--auth-burst", kind: .integer(1...Int(Int32.max)), unit: "requests", defaultValue: "100"),
        SettingKey(key: "auth.refill", flag: "--auth-refill", kind: .number(0.000_001...1e9), unit: "requests per second", defaultValue: "2"),
        SettingKey(key: "auth.bcryptCost", flag: "--bcrypt-cost", kind: .integer(4...31), unit: "", defaultValue: "\(AuthSettings().bcryptCost)"),
        SettingKey(key: "auth.lockoutAfter", flag: "--lockout-after", kind: .integer(1...1_000_000), unit: "failures",
                   defaultValue: "\(LockoutPolicy().maxFailures)"),
        // Minutes times 60 into seconds: a year at most.
        SettingKey(key: "auth.lockoutMinutes", flag: "--lockout-minutes", kind: .integer(1...525_600), unit: "minutes",
                   defaultValue: "\(Int(LockoutPolicy().lockoutDuration.seconds / 60))"),
        SettingKey(key: "rateLimit.enabled", flag: "--rate-limits-enabled", kind: .boolean, unit: "", defaultValue: "true"),
        SettingKey(key: "rateLimit.perSecond", flag: "--rate-limit", kind: .number(0...1e9), unit: "requests per second", defaultValue: "0"),
        SettingKey(key: "rateLimit.burst", flag: "--rate-burst", kind: .integer(1...Int(Int32.max)), unit: "requests", defaultValue: "100"),
        // Each worker is a process; more than this is a typo, not a deployment.
        SettingKey(key: "workers.count", flag: "--workers", kind: .integer(0...256), unit: "processes", defaultValue: "0"),
        SettingKey(key: "workers.concurrency", flag: "--worker-concurrency", kind: .integer(1...1024), unit: "jobs", defaultValue: "16"),
        SettingKey(key: "workers.backoff", flag: "--worker-backoff", kind: .number(0.01...3600), unit: "seconds", defaultValue: "1"),
        SettingKey(key: "workers.maxBackoff", flag: "--worker-max-backoff", kind: .number(0.01...day), unit: "seconds", defaultValue: "60"),
        SettingKey(key: "workers.lease", flag: "--worker-lease", kind: .number(1...day), unit: "seconds", defaultValue: "30"),
        SettingKey(key: "workers.crashLimit", flag: "--worker-crash-limit", kind: .integer(1...1_000_000), unit: "crashes", defaultValue: "5"),
        SettingKey(key: "health.interval", flag: "--health-interval", kind: .number(0...day), unit: "seconds", defaultValue: "10"),
        SettingKey(key: "logs.level", flag: "--log-level", kind: .text, unit: "", defaultValue: "info"),
        SettingKey(key: "store.synchronous", flag: "--synchronous", kind: .text, unit: "", defaultValue: store.synchronous.rawValue),
        SettingKey(key: "store.busyTimeout", flag: "--busy-timeout", kind: .number(0...3600), unit: "seconds",
                   defaultValue: plain(store.busyTimeout.seconds)),
        SettingKey(key: "store.retryDeadline", flag: "--retry-deadline", kind: .number(0...day), unit: "seconds",
                   defaultValue: plain(store.retry.deadline.seconds)),
        // KiB per connection (SQLite's cache_size in KiB is written as a negative page count): 1 TiB at most.
        SettingKey(key: "store.cacheSize", flag: "--cache-size", kind: .integer(0...(1 << 30)), unit: "KiB", defaultValue: "\(store.cacheSizeKiB)"),
        SettingKey(key: "store.mmapSize", flag: "--mmap-size", kind: .integer(0...(1 << 50)), unit: "bytes", defaultValue: "\(store.mmapSize)"),
        SettingKey(key: "store.walSizeLimit", flag: "--wal-size-limit", kind: .integer(0...(1 << 50)), unit: "bytes", defaultValue: "\(store.walSizeLimit)"),
        SettingKey(key: "store.maxReaders", flag: "--max-readers", kind: .integer(1...1024), unit: "connections", defaultValue: "\(store.maxReaders)"),
        SettingKey(key: "store.slowRead", flag: "--slow-read", kind: .number(0...day), unit: "seconds",
                   defaultValue: plain(store.slowReadThreshold?.seconds ?? 0)),
        SettingKey(key: "store.checkpointInterval", flag: "--checkpoint-interval", kind: .number(0.001...2_592_000), unit: "seconds",
                   defaultValue: plain(maintenance.checkpointInterval.seconds)),
        SettingKey(key: "store.optimizeInterval", flag: "--optimize-interval", kind: .number(0.001...2_592_000), unit: "seconds",
                   defaultValue: plain(maintenance.optimizeInterval.seconds)),
        SettingKey(key: "store.allowNetworkFileSystem", flag: "--allow-network-file-system", kind: .boolean, unit: "", defaultValue: "false"),
        SettingKey(key: "bench.allowedTargets", flag: nil, kind: .textList, unit: "", defaultValue: nil),
        SettingKey(key: "bench.fioPath", flag: nil, kind: .text, unit: "", defaultValue: nil),
    ]
}

extension SettingKey {
    /// Refuses a flag's value outside the setting's range, as a usage error (exit 64) naming the flag.
    static func checkFlags(_ values: [String: ConfigContent]) throws {
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let setting = named(key), let flag = setting.flag else { preconditionFailure("\(key) has no flag") }
            switch (setting.kind, value) {
            case (.integer(let range), .int(let number)): try OptionRange.check(number, flag, range, setting.unit)
            case (.number(let range), .double(let number)): try OptionRange.check(number, flag, range, setting.unit)
            default: break
            }
        }
    }
}
