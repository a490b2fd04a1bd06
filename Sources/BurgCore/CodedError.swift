/// An error whose kind is one code of a closed set (`Code.allCases`). Every layer above maps each code
/// deliberately — the CLI to an exit status here, the HTTP API to a status in BurgServer — and a test
/// walks all of them, so a code added later cannot fall through to a generic answer unnoticed.
public protocol CodedError: BurgError {
    associatedtype Code: CaseIterable & Hashable & Sendable
    var code: Code { get }
    /// The exit status a CLI command ends with for `code`. ``BurgError/exitCode`` reads it; an error that
    /// knows more (the errno behind a failed lock) may refine `exitCode` itself.
    static func exitStatus(for code: Code) -> Int32
}

extension CodedError {
    public var exitCode: Int32 { Self.exitStatus(for: code) }

    /// The code as logs and JSON show it: its string raw value (`auth_locked_out`), or the case's name.
    public var codeName: String { Self.name(of: code) }

    /// ``codeName`` for any code of this type, e.g. to list them all.
    public static func name(of code: Code) -> String {
        if let raw = code as? any RawRepresentable<String> { return raw.rawValue }
        return String(describing: code)
    }
}
