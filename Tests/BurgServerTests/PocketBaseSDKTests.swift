import BurgCore
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// PocketBase's official Python SDK (PyPI `pocketbase`, installed by scripts/install-python-tools.sh,
/// which `.ci/run` runs) against a live `burg serve`: superuser auth, collection create, sign-up and
/// sign-in, CRUD, list with filter/sort/paging, file upload and download (a protected file with a file
/// token), errors — unmodified SDK calls
/// (Tests/BurgServerTests/sdk/pocketbase_sdk_check.py).
@Suite struct PocketBaseSDKTests {
    static let root = FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()
    static var python: FilePath? {
        let path = root.appending(".build-sdk/venv/bin/python")
        return FileManager.default.isExecutableFile(atPath: path.string) ? path : nil
    }

    @Test(.enabled(if: python != nil || ProcessInfo.processInfo.environment["CI"] != nil,
                   "needs scripts/install-python-tools.sh (run by .ci/run)"))
    func thePythonSDKWorksUnmodified() async throws {
        try await Self.runCheck("Tests/BurgServerTests/sdk/pocketbase_sdk_check.py", timeout: .seconds(120))
    }

    /// Runs a Python check script (from the repository root) against a live `burg serve`, with its URL
    /// and the superuser's credentials; it passes when it exits 0 with "ok" as its last line.
    static func runCheck(_ script: String, timeout: Duration) async throws {
        let python = try #require(Self.python, "the Python tools are not installed: run scripts/install-python-tools.sh")
        let server = try await LiveServer()
        let run = try ChildProcess(python, [root.appending(script).string, "http://127.0.0.1:\(server.port)", LiveServer.superuser.0, LiveServer.superuser.1])
        #expect(try await run.wait(timeout: timeout) == 0, "\(run.standardError)")
        #expect(run.lines.last == "ok", "\(run.lines) \(run.standardError)")
    }
}
