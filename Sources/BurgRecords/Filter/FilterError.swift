import BurgCore

/// Why a filter or sort expression was refused. Nothing was run: a filter is parsed and checked before
/// any SQL exists. ``position`` is the 1-based character position the problem was found at.
public struct FilterError: CodedError, Equatable {
    public enum Code: String, Sendable, CaseIterable {
        case unexpectedCharacter = "filter_unexpected_character"
        case unterminatedString = "filter_unterminated_string"
        case invalidNumber = "filter_invalid_number"
        case unexpectedToken = "filter_unexpected_token"
        case unexpectedEnd = "filter_unexpected_end"
        case unknownField = "filter_unknown_field"
        case unknownMacro = "filter_unknown_macro"
        case tooComplex = "filter_too_complex"
        case invalidSort = "sort_invalid"
    }

    public var code: Code
    /// 1-based character position in ``text``.
    public var position: Int
    /// What was wrong, in words: `unknown field "nmae"`.
    public var message: String
    /// The whole filter (or sort) text.
    public var text: String

    public init(_ code: Code, position: Int, message: String, text: String) {
        self.code = code
        self.position = position
        self.message = message
        self.text = text
    }

    public var description: String {
        let shown = text.count <= 200 ? text : String(text.prefix(200)) + "…"
        // The caret points into the text shown, or is left out when the position is past it.
        let caret = position <= 201 ? "\n  " + String(repeating: " ", count: max(0, position - 1)) + "^" : ""
        return "invalid \(code == .invalidSort ? "sort" : "filter") at position \(position): \(message)\n  \(shown)\(caret)"
    }

    public static func exitStatus(for code: Code) -> Int32 { ExitStatus.usage }
}
