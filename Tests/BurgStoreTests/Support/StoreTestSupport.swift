import BurgStore
import BurgTestSupport
import Foundation
import SystemPackage

/// Whether the long forms of the crash and soak tests run (`BURG_SOAK=1`).
let soak = ProcessInfo.processInfo.environment["BURG_SOAK"] == "1"

extension TemporaryDirectory {
    /// A store configuration on `<temp dir>/data`.
    var storeConfiguration: StoreConfiguration { StoreConfiguration(dataDirectory: path("data")) }
}

/// Opens a store with the counter schema the test helper uses.
func openCounterStore(_ configuration: StoreConfiguration) throws -> Store {
    try Store(configuration, migrations: CounterSchema.migrations)
}

func startHelper(_ arguments: [String]) throws -> ChildProcess {
    try ChildProcess(BuiltProducts.testHelper, arguments)
}

func fileBytes(_ path: FilePath) -> Data? {
    FileManager.default.contents(atPath: path.string)
}

/// `key=value` fields of a helper's output line ("done writes=1000 retries=3").
func fields(_ line: String) -> [String: Int] {
    var result: [String: Int] = [:]
    for part in line.split(separator: " ") {
        let pair = part.split(separator: "=", maxSplits: 1)
        if pair.count == 2, let value = Int(pair[1]) { result[String(pair[0])] = value }
    }
    return result
}
