import BurgAuth
import Foundation
import Testing

@Suite struct PasswordHasherTests {
    @Test func hashesVerifyOnlyTheirOwnPasswordAndAreSalted() async {
        let hasher = PasswordHasher(cost: 4, threads: 2)
        let first = await hasher.hash("correct horse")
        let second = await hasher.hash("correct horse")
        #expect(first != second, "each hash has its own salt")
        #expect(first.hasPrefix("$2b$04$") || first.hasPrefix("$2a$04$") || first.hasPrefix("$2y$04$"))
        #expect(await hasher.verify("correct horse", hash: first))
        #expect(await !hasher.verify("correct horsf", hash: first))
        #expect(await !hasher.verify("correct horse", hash: "not a bcrypt hash"))
    }

    /// A burst of sign-ins must not stall other requests: hashing runs on threads outside Swift's
    /// cooperative pool, so a task that wakes every 5 ms keeps waking while 8 slow hashes run. (Run on
    /// the pool itself, the 8 hashes would hold both cores' pool threads for about a second.)
    @Test func aBurstOfSlowHashesDoesNotStallOtherTasks() async {
        let hasher = PasswordHasher(cost: 11, threads: 2)
        let started = ContinuousClock.now
        let longestGap = await withTaskGroup(of: Duration?.self) { group in
            for index in 0..<8 {
                group.addTask { _ = await hasher.hash("password \(index)"); return nil }
            }
            group.addTask {
                var longest = Duration.zero
                var last = ContinuousClock.now
                while ContinuousClock.now - started < .milliseconds(600) {
                    try? await Task.sleep(for: .milliseconds(5))
                    let now = ContinuousClock.now
                    longest = max(longest, now - last)
                    last = now
                }
                return longest
            }
            var result = Duration.zero
            for await gap in group { if let gap { result = gap } }
            return result
        }
        let hashing = ContinuousClock.now - started
        #expect(hashing > .milliseconds(300), "the hashes must be slow enough for the test to mean something")
        #expect(longestGap < .milliseconds(200), "longest stall \(longestGap) while hashing took \(hashing)")
    }
}
