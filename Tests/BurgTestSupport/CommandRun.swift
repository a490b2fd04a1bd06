import Foundation

/// A finished `burg` command as a person would have seen it without a terminal: exit status, stdout
/// lines, and stderr (progress and diagnostics).
public struct CommandRun: Sendable {
    public var status: Int32
    public var lines: [String]
    public var standardError: String

    /// The first line of stdout, or of stderr when stdout is empty (a refusal): what a person sees first.
    public var firstLine: String {
        lines.first ?? errorLines.first ?? ""
    }

    public var errorLines: [String] {
        standardError.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
}

extension ChildProcess {
    /// Runs `burg` with `arguments` to the end (stdin, stdout and stderr are not terminals).
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public static func run(
        _ arguments: [String], environment: [String: String]? = nil, timeout: Duration = .seconds(300)
    ) throws -> CommandRun {
        let child = try ChildProcess(BuiltProducts.burg, arguments, environment: environment)
        let status = try child.wait(timeout: timeout)
        return CommandRun(status: status, lines: child.lines, standardError: child.standardError)
    }

    /// ``run(_:environment:timeout:)`` for async tests, on a thread of its own.
    public static func run(
        _ arguments: [String], environment: [String: String]? = nil, timeout: Duration = .seconds(300)
    ) async throws -> CommandRun {
        try await onOwnThread { try run(arguments, environment: environment, timeout: timeout) }
    }
}
