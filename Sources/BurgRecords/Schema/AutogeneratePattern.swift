/// A text field's `autogeneratePattern`, as PocketBase declares it (`[a-z0-9]{15}`, `INV-[0-9]{6}`): the
/// value a record gets when it is created without one.
///
/// Burg generates from the part of regular-expression syntax such patterns use: literal characters
/// (`\` escapes one), character classes with ranges (`[a-zA-Z0-9_-]`), each optionally repeated `{n}` or
/// `{n,m}`. Anything else (alternation, groups, `*`, `+`, `.`) is refused when the collection is stored,
/// with the part named, rather than generating values that would not match.
public struct AutogeneratePattern: Sendable, Equatable {
    struct Part: Sendable, Equatable {
        var characters: [Character]
        var minimum: Int
        var maximum: Int
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    let parts: [Part]
    /// At most this many characters per repetition and in all (a pattern is for ids and codes).
    static let maxLength = 255

    public init(_ pattern: String) throws(ParseError) {
        var parts: [Part] = []
        let characters = Array(pattern)
        var i = 0
        func fail(_ message: String) -> ParseError { ParseError(message: "autogeneratePattern \(pattern): \(message)") }
        while i < characters.count {
            var set: [Character]
            switch characters[i] {
            case "[":
                i += 1
                set = []
                guard i < characters.count, characters[i] != "^" else { throw fail("negated classes ([^…]) are not supported") }
                while i < characters.count, characters[i] != "]" {
                    var low = characters[i]
                    if low == "\\" {
                        i += 1
                        guard i < characters.count else { throw fail("a \\ ends the pattern") }
                        low = characters[i]
                    }
                    if i + 2 < characters.count, characters[i + 1] == "-", characters[i + 2] != "]" {
                        let high = characters[i + 2]
                        guard let from = low.unicodeScalars.first?.value, let to = high.unicodeScalars.first?.value, from <= to, to - from < 1024 else {
                            throw fail("the range \(low)-\(high) is not ascending or is too wide")
                        }
                        for value in from...to { if let scalar = Unicode.Scalar(value) { set.append(Character(scalar)) } }
                        i += 3
                    } else {
                        set.append(low)
                        i += 1
                    }
                }
                guard i < characters.count else { throw fail("a [ is not closed") }
                guard !set.isEmpty else { throw fail("an empty class [] matches nothing") }
                i += 1
            case "\\":
                guard i + 1 < characters.count, !"dwsDWSbB".contains(characters[i + 1]) else {
                    throw fail("only escaped literal characters are supported (write [0-9] for \\d)")
                }
                set = [characters[i + 1]]
                i += 2
            case "(", ")", "|", "*", "+", "?", ".", "^", "$", "{", "}":
                throw fail("\"\(characters[i])\" is not supported: use literal characters and [classes] with {n} or {n,m}")
            default:
                set = [characters[i]]
                i += 1
            }
            var minimum = 1
            var maximum = 1
            if i < characters.count, characters[i] == "{" {
                guard let close = characters[i...].firstIndex(of: "}") else { throw fail("a { is not closed") }
                let bounds = String(characters[(i + 1)..<close]).split(separator: ",", omittingEmptySubsequences: false)
                guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds.last!), low >= 0, low <= high, high <= Self.maxLength else {
                    throw fail("a repetition is {n} or {n,m} with 0 ≤ n ≤ m ≤ \(Self.maxLength)")
                }
                minimum = low
                maximum = high
                i = close + 1
            }
            parts.append(Part(characters: set, minimum: minimum, maximum: maximum))
        }
        guard !parts.isEmpty else { throw fail("it is empty") }
        guard parts.reduce(0, { $0 + $1.maximum }) <= Self.maxLength else { throw fail("it makes values over \(Self.maxLength) characters") }
        self.parts = parts
    }

    /// A new value, from the system's random generator.
    public func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var value = ""
        for part in parts {
            let count = Int.random(in: part.minimum...part.maximum, using: &generator)
            for _ in 0..<count { value.append(part.characters.randomElement(using: &generator)!) }
        }
        return value
    }
}
