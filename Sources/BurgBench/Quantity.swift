import Foundation

/// Parses the sizes and rates users type. Binary and decimal prefixes are kept apart: `1G`/`1GiB` is
/// 2^30 bytes, `1GB` is 10^9 bytes; rates in bytes (`92MB/s`, `88MiB/s`) or bits (`737Mbit`, `737Mb/s`).
public enum Quantity {
    /// Bytes in "4096", "4k", "4KiB", "1G", "1GB", "1.5GiB". Nil when unreadable.
    public static func bytes(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let number = trimmed.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number), value >= 0 else { return nil }
        let unit = trimmed.dropFirst(number.count).lowercased()
        let prefixes: [Character: Double] = ["k": 1, "m": 2, "g": 3, "t": 4, "p": 5]
        var multiplier = 1.0
        switch unit {
        case "", "b": multiplier = 1
        default:
            guard let first = unit.first, let power = prefixes[first] else { return nil }
            let rest = unit.dropFirst()
            switch rest {
            case "", "i", "ib": multiplier = pow(1024, power)
            case "b": multiplier = pow(1000, power)
            default: return nil
            }
        }
        let result = value * multiplier
        return result < 1.8e19 ? UInt64(result.rounded()) : nil
    }

    /// Bytes per second in "92MB/s", "88MiB/s", "737Mbit", "737Mb/s", "184mbps". Nil when unreadable.
    public static func rate(_ text: String) -> Double? {
        var unit = text.trimmingCharacters(in: .whitespaces)
        for suffix in ["/s", "ps"] where unit.lowercased().hasSuffix(suffix) { unit = String(unit.dropLast(suffix.count)) }
        let number = unit.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number), value > 0 else { return nil }
        var rest = String(unit.dropFirst(number.count))
        let bits = rest.lowercased().hasSuffix("bit") || (rest.hasSuffix("b") && !rest.hasSuffix("B"))
        if rest.lowercased().hasSuffix("bit") { rest = String(rest.dropLast(3)) } else if rest.lowercased().hasSuffix("b") { rest = String(rest.dropLast()) }
        let binary = rest.lowercased().hasSuffix("i")
        if binary { rest = String(rest.dropLast()) }
        let powers: [String: Double] = ["": 0, "k": 1, "m": 2, "g": 3, "t": 4]
        guard let power = powers[rest.lowercased()] else { return nil }
        let bytes = value * pow(binary ? 1024 : 1000, power)
        return bits ? bytes / 8 : bytes
    }

    private static func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) { result *= base }
        return result
    }
}
