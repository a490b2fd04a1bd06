@testable import BurgServer
import Testing

/// Query strings are decoded as forms, as PocketBase's SDKs and browsers send them.
@Suite struct FormQueryTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("a+b", "a b"),
        ("a%2Bb", "a+b"),
        ("status%3D%27open%27", "status='open'"),
        ("%e2%82%AC%20", "€ "),
        ("", ""),
        // Not decodable: kept as sent (then refused by whoever reads the value, e.g. the filter parser).
        ("100%", "100%"),
        ("%zz+x", "%zz+x"),
        ("%4", "%4"),
        ("%ff%fe", "%ff%fe"),
    ])
    func valuesAreDecodedAsAFormOrKeptAsSent(_ sent: String, _ expected: String) {
        #expect(FormDecoding.decoded(Substring(sent)) == expected)
    }
}
