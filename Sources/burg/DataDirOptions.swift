import ArgumentParser
import Foundation
import BurgCore
import SystemPackage

/// `--data-dir DIR`, taken by every command.
struct DataDirOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Burg's data directory.", valueName: "DIR"))
    var path: String = DataDirectory.defaultPath.string

    var filePath: FilePath { FilePath(path) }

    /// The directory as an absolute path, for logs ("where does my data live?").
    var absolutePath: String {
        filePath.isAbsolute ? path : FilePath(FileManager.default.currentDirectoryPath).pushing(filePath).lexicallyNormalized().string
    }
}
