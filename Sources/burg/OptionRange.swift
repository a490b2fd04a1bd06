import ArgumentParser
import BurgCore

/// The ranges burg's numeric options and config values accept.
///
/// Every number a person can type goes through one of these before it is used, so that no value — NaN,
/// `1e999`, 2^63−1, −1 — reaches a conversion to `Int` or `Duration`, a multiplication or a loop bound
/// that would trap or never end. A flag out of range is refused while the command line is checked (exit
/// 64), before any work starts; a value from `burg.json` or a `BURG_*` variable when it is read (exit 78).
/// Both messages name the option, the range and the value given.
enum OptionRange {
    /// The longest duration any option takes: ten years, far inside the range of `Duration` and of
    /// `Int64` milliseconds, so `seconds * 1000` and `.seconds(x)` cannot overflow.
    static let longestSeconds: Double = 315_360_000

    /// Checks a number of seconds (or any decimal) given on the command line.
    static func check(_ value: Double?, _ option: String, _ range: ClosedRange<Double>, _ unit: String) throws {
        guard let value else { return }
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(option) must be \(describe(range)) \(unit), not \(value)")
        }
    }

    /// Checks a count or size given on the command line.
    static func check(_ value: Int?, _ option: String, _ range: ClosedRange<Int>, _ unit: String = "") throws {
        guard let value else { return }
        guard range.contains(value) else {
            throw ValidationError("\(option) must be \(describe(range))\(unit.isEmpty ? "" : " " + unit), not \(value)")
        }
    }

    /// A number from the config file or the environment (`key` as it is written in the file), refused
    /// with exit 78 outside `range`; `origin` says where it was set ("set in /srv/burg/burg.json").
    static func setting(_ value: Double, _ key: String, _ range: ClosedRange<Double>, _ unit: String, origin: String) throws -> Double {
        guard value.isFinite, range.contains(value) else {
            throw SettingsError(
                message: "the setting \(key) must be \(describe(range))\(unit.isEmpty ? "" : " " + unit), not \(value) (\(origin)); correct it there",
                exitCode: ExitStatus.config)
        }
        return value
    }

    /// A count or size from the config file or the environment, refused with exit 78 outside `range`.
    static func setting(_ value: Int, _ key: String, _ range: ClosedRange<Int>, _ unit: String, origin: String) throws -> Int {
        guard range.contains(value) else {
            throw SettingsError(
                message: "the setting \(key) must be \(describe(range))\(unit.isEmpty ? "" : " " + unit), not \(value) (\(origin)); correct it there",
                exitCode: ExitStatus.config)
        }
        return value
    }

    private static func describe(_ range: ClosedRange<Double>) -> String {
        "from \(plain(range.lowerBound)) to \(plain(range.upperBound))"
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        "from \(range.lowerBound) to \(range.upperBound)"
    }

    /// `300.0` as `300`, `0.5` as `0.5`.
    private static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
