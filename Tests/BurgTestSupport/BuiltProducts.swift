import Foundation
import SystemPackage

/// Where SwiftPM put the executables built with the tests (`burg`, `burg-test-helper`): the directory
/// of the running test bundle.
public enum BuiltProducts {
    public static let directory: FilePath = {
        #if os(Linux)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        #else
        let executable = Bundle.main.executablePath ?? CommandLine.arguments[0]
        #endif
        var directory = FilePath(executable).removingLastComponent()
        // Darwin runs tests from inside an .xctest bundle; step out of it.
        while let last = directory.lastComponent?.string, last.hasSuffix(".xctest") || last == "MacOS"
            || last == "Contents"
        {
            directory = directory.removingLastComponent()
        }
        return directory
    }()

    public static var burg: FilePath { directory.appending("burg") }
    public static var testHelper: FilePath { directory.appending("burg-test-helper") }
}
