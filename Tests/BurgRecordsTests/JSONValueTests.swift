import BurgRecords
import Foundation
import Testing

/// Burg's own JSON reader and writer (imports parse millions of lines): the same values as Foundation's,
/// and a clear error with the offset for anything that is not JSON.
@Suite struct JSONValueTests {
    @Test(arguments: [
        (#"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n\u00e9\ud83d\ude00","d":-1.5e3,"e":{}}"#, #"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n\#u{e9}\#u{1F600}","d":-1500,"e":{}}"#),
        ("  [ 1 , 2.25 , \"\" ]  ", "[1,2.25,\"\"]"),
        ("0", "0"), ("-0.5", "-0.5"), ("1e20", "1e+20"), ("\"a/b\"", "\"a/b\""), ("\"\\u0001\"", "\"\\u0001\""),
    ])
    func validJSONParsesAndWritesBackCanonically(text: String, canonical: String) throws {
        let value = try JSONValue.parse(text)
        #expect(value.jsonText == canonical)
        #expect(try JSONValue.parse(value.jsonText) == value)
        // Foundation agrees on the value.
        let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(foundation == value)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "nul", "\"abc", "\"\\x\"", "\"a\u{01}\"", "{1:2}", "[1] x",
                      "NaN", "1e999", String(repeating: "[", count: 600) + String(repeating: "]", count: 600)])
    func invalidJSONIsAnErrorWithAnOffset(text: String) {
        let error = #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(text) }
        #expect((error?.offset ?? -1) >= 0 && error?.description.contains("expected") == true)
    }

    @Test func randomValuesRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &generator))
            case 2: return .number(Bool.random(using: &generator) ? Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) : Double.random(in: -1e6...1e6, using: &generator))
            case 3: return .string(String((0..<Int.random(in: 0...12, using: &generator)).map { _ in "aé\"\\\n/😀\u{7}z ".randomElement(using: &generator)! }))
            case 4: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in random(depth + 1) })
            default: return .object(Dictionary((0..<Int.random(in: 0...4, using: &generator)).map { ("k\($0)", random(depth + 1)) }) { a, _ in a })
            }
        }
        for _ in 0..<500 {
            let value = random(0)
            #expect(try JSONValue.parse(value.jsonText) == value)
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(value.jsonText.utf8)) == value)
        }
    }
}
