import ArgumentParser
import BurgCore
import Configuration
import SystemPackage

/// Burg's settings besides the command line, read with swift-configuration: environment variables
/// `BURG_<SECTION>_<NAME>` (e.g. `BURG_STORE_BUSY_TIMEOUT=10`) override the config file, a JSON object
/// such as `{"store": {"busyTimeout": 10, "synchronous": "full"}}` at `--config FILE` or, by default,
/// `<data dir>/burg.json` if it exists. Command-line flags override both.
struct BurgSettings: Sendable {
    let environment: ConfigReader
    let file: ConfigReader?
    /// The config file that was read, if any.
    let filePath: FilePath?

    static func load(dataDir: FilePath, configFile: String?) async throws -> BurgSettings {
        let environment = ConfigReader(provider: EnvironmentVariablesProvider()).scoped(to: "burg")
        let path = configFile.map { FilePath($0) } ?? dataDir.appending("burg.json")
        let exists = (try? AtomicFile.read(path)) != nil
        if configFile != nil && !exists {
            throw SettingsError(message: "config file \(path) does not exist; create it or leave out --config", exitCode: ExitStatus.noInput)
        }
        guard exists else { return BurgSettings(environment: environment, file: nil, filePath: nil) }
        do {
            let provider = try await FileProvider<JSONSnapshot>(filePath: path)
            return BurgSettings(environment: environment, file: ConfigReader(provider: provider), filePath: path)
        } catch {
            throw SettingsError(message: "config file \(path) is not valid JSON: \(error); fix it or move it away", exitCode: ExitStatus.config)
        }
    }

    func string(_ key: ConfigKey) -> String? { environment.string(forKey: key) ?? file?.string(forKey: key) }
    func double(_ key: ConfigKey) -> Double? {
        environment.double(forKey: key) ?? file?.double(forKey: key) ?? file?.int(forKey: key).map(Double.init)
    }
    func int(_ key: ConfigKey) -> Int? { environment.int(forKey: key) ?? file?.int(forKey: key) }
    func stringArray(_ key: ConfigKey) -> [String]? {
        environment.stringArray(forKey: key) ?? file?.stringArray(forKey: key)
    }
    func bool(_ key: ConfigKey) -> Bool? { environment.bool(forKey: key) ?? file?.bool(forKey: key) }
}

/// The config file cannot be used.
struct SettingsError: BurgError {
    var message: String
    var exitCode: Int32
    var description: String { message }
}
