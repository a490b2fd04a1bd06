@testable import BurgServer
import Foundation
import SystemPackage
import Testing

/// The limits table in docs/OPERATIONS.md is the list the code enforces: same names, same values.
@Suite struct LimitsDocumentationTests {
    static let root = FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()

    @Test func theDocumentedLimitsAreExactlyTheEnforcedOnes() throws {
        let text = try String(contentsOfFile: Self.root.appending("docs/OPERATIONS.md").string, encoding: .utf8)
        guard let start = text.range(of: "### Limits") else { Issue.record("no Limits section"); return }
        var documented: [String: String] = [:]
        for line in text[start.upperBound...].split(separator: "\n") {
            if line.hasPrefix("#") { break }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard line.hasPrefix("|"), cells.count >= 3, cells[0] != "limit", !cells[0].hasPrefix("---") else { continue }
            documented[cells[0]] = cells[1]
        }
        let enforced = Dictionary(uniqueKeysWithValues: Limits.all.map { ($0.name, String($0.value)) })
        #expect(documented == enforced)
    }
}
