import BurgRecords

/// The JSON reader. Invariants: it either throws `ParseError` at an offset within the input, or returns a
/// value whose text (`jsonText`, the form Burg stores) parses to an equal value and is its own text again.
enum JSONHarness {
    static func run(_ input: [UInt8]) {
        let value: JSONValue
        do {
            value = try input.withUnsafeBufferPointer { buffer throws(JSONValue.ParseError) in try JSONValue.parse(buffer) }
        } catch {
            require(error.offset >= 0 && error.offset <= input.count, "offset \(error.offset) outside \(input.count) bytes")
            return
        }
        let text = value.jsonText
        do {
            let again = try JSONValue.parse(text)
            require(again == value, "\(text) parses to another value")
            require(again.jsonText == text, "\(text) is written as \(again.jsonText) once parsed")
        } catch {
            require(false, "Burg's own JSON text \(text.debugDescription) does not parse: \(error)")
        }
    }
}
