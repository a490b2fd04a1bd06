import Foundation
import Testing

/// A web app in real headless Chromium (Debian's `chromium` and `chromium-driver`, driven by `selenium`
/// from PyPI; scripts/install-system-packages.sh and scripts/install-python-tools.sh install them, and
/// `.ci/run` runs both), served from a second loopback port, against a live `burg serve`: the CORS
/// preflight, sign-in, a realtime subscription to `notes/*` over EventSource, a create that arrives as
/// an event, and a list (Tests/BurgServerTests/browser/browser_check.py).
@Suite struct BrowserTests {
    static var chromiumPresent: Bool {
        ["/usr/bin/chromium", "/usr/bin/chromedriver"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: (PocketBaseSDKTests.python != nil && chromiumPresent) || ProcessInfo.processInfo.environment["CI"] != nil,
                   "needs chromium and chromium-driver (scripts/install-system-packages.sh) and selenium (scripts/install-python-tools.sh)"))
    func aWebAppOnAnotherOriginSignsInCreatesListsAndHearsTheEvent() async throws {
        try await PocketBaseSDKTests.runCheck("Tests/BurgServerTests/browser/browser_check.py", timeout: .seconds(180))
    }
}
