import ArgumentParser
import BurgCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a command body; a ``BurgError`` that escapes is printed to stderr as `burg: <description>` and
/// ends the process with the error's exit code (see `burg --help` for the table).
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as any BurgError {
        printError(error.description)
        throw ExitCode(error.exitCode)
    }
}

func printError(_ message: String) {
    writeStandardError("burg: " + message + "\n")
}

/// Writes `text` as it is to stderr, in one write.
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
