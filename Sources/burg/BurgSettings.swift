import ArgumentParser
import BurgCore
import BurgRecords
import Configuration
import Foundation
import SystemPackage

/// Burg's settings, read through one swift-configuration `ConfigReader` whose providers give, highest
/// first: the command-line flags that were given, environment variables `BURG_<SECTION>_<NAME>`
/// (`BURG_STORE_BUSY_TIMEOUT=10`), the JSON config file (`--config FILE`, else `<data dir>/burg.json` if
/// it exists), the defaults of ``SettingKey/all``.
///
/// Guarantees: after ``load(dataDir:configFile:flags:environment:)`` returns, every key of the file is
/// a known setting holding a value of its type, every `BURG_*` variable of a setting parses as its type,
/// and every typed read returns a value inside the setting's range, or throws a ``SettingsError`` (exit
/// 78) that names the key, where it was set, and what it accepts.
struct BurgSettings: Sendable {
    let reader: ConfigReader
    /// The config file that was read, if any.
    let filePath: FilePath?
    private let flagKeys: Set<String>
    private let environmentKeys: Set<String>
    private let fileKeys: Set<String>

    /// Where a value came from, highest priority first.
    enum Source: String, Sendable { case flag, environment, file, `default` }

    static func load(
        dataDir: FilePath, configFile: String?, flags: [String: ConfigContent] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> BurgSettings {
        let environmentKeys = try checkEnvironment(environment)
        let path = configFile.map { FilePath($0) } ?? dataDir.appending("burg.json")
        let bytes = try? AtomicFile.read(path)
        if configFile != nil && bytes == nil {
            throw SettingsError(message: "config file \(path) does not exist; create it or leave out --config", exitCode: ExitStatus.noInput)
        }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: Dictionary(uniqueKeysWithValues: flags.map { (absolute($0.key), ConfigValue($0.value, isSecret: false)) })),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "burg"),
        ]
        var fileKeys: Set<String> = []
        if let bytes {
            let json: JSONValue
            do {
                json = try JSONValue.parse(String(decoding: bytes, as: UTF8.self))
            } catch {
                throw SettingsError(message: "config file \(path) is not valid JSON: \(error); fix it or move it away", exitCode: ExitStatus.config)
            }
            fileKeys = try checkFile(json, path: path)
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: path))
            } catch {
                throw SettingsError(message: "config file \(path) cannot be read: \(error); fix it or move it away", exitCode: ExitStatus.config)
            }
        }
        providers.append(InMemoryProvider(name: "defaults", values: defaults))
        return BurgSettings(
            reader: ConfigReader(providers: providers), filePath: bytes == nil ? nil : path,
            flagKeys: Set(flags.keys), environmentKeys: environmentKeys, fileKeys: fileKeys)
    }

    /// Which source the value of `key` comes from.
    func source(of key: String) -> Source {
        if flagKeys.contains(key) { return .flag }
        if environmentKeys.contains(key) { return .environment }
        if fileKeys.contains(key) { return .file }
        return .default
    }

    /// Where `setting` was set, for messages: "(set by BURG_STORE_BUSY_TIMEOUT)".
    private func origin(_ setting: SettingKey) -> String {
        switch source(of: setting.key) {
        case .flag: "set by \(setting.flag ?? "a flag")"
        case .environment: "set by the environment variable \(setting.environmentVariable)"
        case .file: "set in \(filePath?.string ?? "the config file")"
        case .default: "its default"
        }
    }

    // MARK: Typed reads

    func integer(_ key: String) throws -> Int {
        let setting = Self.setting(key)
        guard case .integer(let range) = setting.kind else { preconditionFailure("\(key) is not an integer setting") }
        let value = try read(setting) { try reader.requiredInt(forKey: ConfigKey(key)) }
        return try OptionRange.setting(value, key, range, setting.unit, origin: origin(setting))
    }

    func number(_ key: String) throws -> Double {
        let setting = Self.setting(key)
        guard case .number(let range) = setting.kind else { preconditionFailure("\(key) is not a number setting") }
        let value = try read(setting) { try reader.requiredDouble(forKey: ConfigKey(key)) }
        return try OptionRange.setting(value, key, range, setting.unit, origin: origin(setting))
    }

    func boolean(_ key: String) throws -> Bool {
        try read(Self.setting(key)) { try reader.requiredBool(forKey: ConfigKey(key)) }
    }

    /// A string setting; nil when it has no default and nothing sets it.
    func text(_ key: String) -> String? {
        // Not `required`: some have no default. The types were checked when loading.
        reader.string(forKey: ConfigKey(key))
    }

    /// A list setting; nil when nothing sets it.
    func textList(_ key: String) -> [String]? {
        reader.stringArray(forKey: ConfigKey(key))
    }

    /// A value some check beyond its type refused (an address, a choice, a directory), as exit 78.
    func refuse(_ key: String, _ value: String, _ reason: String) -> SettingsError {
        let setting = Self.setting(key)
        return SettingsError(
            message: "the setting \(key) (\(origin(setting))) is \"\(value)\": \(reason); correct it", exitCode: ExitStatus.config)
    }

    private func read<T>(_ setting: SettingKey, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            // The file and the environment were checked against the types when loading; this is a net.
            throw SettingsError(
                message: "the setting \(setting.key) (\(origin(setting))) cannot be read as \(setting.typeDescription): \(error); correct it",
                exitCode: ExitStatus.config)
        }
    }

    private static func setting(_ key: String) -> SettingKey {
        guard let setting = SettingKey.named(key) else { preconditionFailure("\(key) is not in SettingKey.all") }
        return setting
    }

    private static func absolute(_ key: String) -> AbsoluteConfigKey {
        AbsoluteConfigKey(key.split(separator: ".").map(String.init))
    }

    /// The lowest-priority provider's values: each setting's default, typed.
    private static var defaults: [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for setting in SettingKey.all {
            guard let text = setting.defaultValue else { continue }
            let content: ConfigContent? = switch setting.kind {
            case .integer: Int(text).map { .int($0) }
            case .number: Double(text).map { .double($0) }
            case .boolean: Bool(text).map { .bool($0) }
            case .text: .string(text)
            case .textList: .stringArray(text.split(separator: ",").map(String.init))
            }
            guard let content else { preconditionFailure("the default of \(setting.key) is not a \(setting.typeDescription)") }
            values[absolute(setting.key)] = ConfigValue(content, isSecret: false)
        }
        return values
    }

    // MARK: Checks when loading

    /// The settings the environment sets, each checked to parse as its type.
    private static func checkEnvironment(_ environment: [String: String]) throws -> Set<String> {
        var keys: Set<String> = []
        for setting in SettingKey.all {
            guard let text = environment[setting.environmentVariable] else { continue }
            let parses = switch setting.kind {
            case .integer: Int(text) != nil
            case .number: Double(text) != nil
            // What swift-configuration's environment provider reads as a boolean.
            case .boolean: ["true", "false", "yes", "no", "1", "0"].contains(text.lowercased())
            case .text, .textList: true
            }
            guard parses else {
                throw SettingsError(
                    message: "the environment variable \(setting.environmentVariable) is \"\(text)\", but \(setting.key) takes \(setting.expectation); correct or unset it",
                    exitCode: ExitStatus.config)
            }
            keys.insert(setting.key)
        }
        return keys
    }

    /// The settings the config file sets; an unknown key or a value of the wrong type is refused,
    /// naming the key and the file.
    private static func checkFile(_ json: JSONValue, path: FilePath) throws -> Set<String> {
        guard case .object(let top) = json else {
            throw SettingsError(
                message: "config file \(path) must hold a JSON object such as {\"store\": {\"busyTimeout\": 10}}; fix it or move it away",
                exitCode: ExitStatus.config)
        }
        var keys: Set<String> = []
        func walk(_ object: [String: JSONValue], _ prefix: String) throws {
            for (name, value) in object.sorted(by: { $0.key < $1.key }) {
                let key = prefix.isEmpty ? name : prefix + "." + name
                if let setting = SettingKey.named(key) {
                    if value == .null { continue }
                    guard setting.accepts(value) else {
                        throw SettingsError(
                            message: "the setting \(key) in \(path) must be \(setting.expectation), not \(value); correct it there",
                            exitCode: ExitStatus.config)
                    }
                    keys.insert(key)
                } else if SettingKey.all.contains(where: { $0.key.hasPrefix(key + ".") }) {
                    guard case .object(let inner) = value else {
                        throw SettingsError(
                            message: "\(key) in \(path) must be an object of settings, not \(value); correct it there", exitCode: ExitStatus.config)
                    }
                    try walk(inner, key)
                } else {
                    throw SettingsError(message: "unknown setting \(key) in \(path); \(known(near: prefix)); correct or remove it", exitCode: ExitStatus.config)
                }
            }
        }
        try walk(top, "")
        return keys
    }

    /// "store takes busyTimeout, …" or "the sections are server, auth, …", to point at the right name.
    private static func known(near prefix: String) -> String {
        if prefix.isEmpty {
            var sections: [String] = []
            for setting in SettingKey.all {
                let section = String(setting.key.prefix { $0 != "." })
                if !sections.contains(section) { sections.append(section) }
            }
            return "the sections are \(sections.joined(separator: ", ")) (docs/OPERATIONS.md lists every setting)"
        }
        let names = SettingKey.all.filter { $0.key.hasPrefix(prefix + ".") }.map { String($0.key.dropFirst(prefix.count + 1)) }
        return "\(prefix) takes \(names.joined(separator: ", "))"
    }
}

extension SettingKey {
    /// Whether a value of `burg.json` has this setting's type (a range is checked when it is read).
    func accepts(_ value: JSONValue) -> Bool {
        switch (kind, value) {
        // Integral and inside Int's range; 9.2e18 is exactly representable, Int.max is not.
        case (.integer, .number(let number)): number == number.rounded() && abs(number) < 9.2e18
        case (.number, .number), (.boolean, .bool), (.text, .string): true
        case (.textList, .array(let items)): items.allSatisfy { if case .string = $0 { true } else { false } }
        default: false
        }
    }
}

/// A setting or the config file cannot be used.
struct SettingsError: BurgError {
    var message: String
    var exitCode: Int32
    var description: String { message }
}
