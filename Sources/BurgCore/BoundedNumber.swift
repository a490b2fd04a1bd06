/// A number that came from outside — an HTTP query parameter, a header, a CLI option — read into the
/// range the code using it can compute with. A value outside the range, or one that is not a plain
/// number (`1e999`, `NaN`, `12abc`, an empty string), is refused with an error that names the parameter
/// and its range, so no later arithmetic on an accepted value can overflow or trap.
public enum BoundedNumber {
    /// `text` as a whole number within `range`.
    public static func integer(_ text: String, _ name: String, in range: ClosedRange<Int>) throws(NumberParameterError) -> Int {
        let trimmed = text.trimmingSpaces
        // Int(_:) refuses fractions, exponents, NaN and anything past Int's range, which is what a whole
        // number parameter should refuse too.
        guard let value = Int(trimmed), range.contains(value) else {
            throw NumberParameterError(name: name, value: text, kind: .integer(range))
        }
        return value
    }

    /// `text` as a finite decimal number within `range` (NaN and infinities are refused).
    public static func decimal(_ text: String, _ name: String, in range: ClosedRange<Double>) throws(NumberParameterError) -> Double {
        guard let value = Double.decimal(text.trimmingSpaces), value.isFinite, range.contains(value) else {
            throw NumberParameterError(name: name, value: text, kind: .decimal(range))
        }
        return value
    }
}

/// A number parameter outside its domain: nothing was done with it.
public struct NumberParameterError: BurgError, Equatable {
    public enum Kind: Sendable, Equatable {
        case integer(ClosedRange<Int>)
        case decimal(ClosedRange<Double>)
    }

    /// The parameter's name as the caller wrote it (`page`, `--count`).
    public var name: String
    /// What was sent, verbatim (shown shortened).
    public var value: String
    public var kind: Kind

    public init(name: String, value: String, kind: Kind) {
        self.name = name
        self.value = value
        self.kind = kind
    }

    /// "page must be a whole number from 1 to 2147483647 (got "1e999")."
    public var description: String {
        let shown = value.count > 40 ? String(value.prefix(40)) + "…" : value
        switch kind {
        case .integer(let range):
            return "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \"\(shown)\")."
        case .decimal(let range):
            return "\(name) must be a number from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound)) (got \"\(shown)\")."
        }
    }

    public var exitCode: Int32 { ExitStatus.usage }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        var slice = self[...]
        while slice.first == " " { slice.removeFirst() }
        while slice.last == " " { slice.removeLast() }
        return slice
    }
}

extension Double {
    /// Double(_:) also accepts "nan", "inf" and hexadecimal floats; a client's number is decimal digits.
    fileprivate static func decimal(_ text: Substring) -> Double? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else { return nil }
        return Double(text)
    }
}
