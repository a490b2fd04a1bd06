@testable import BurgBench

/// The fio option sanitiser. The input is options, one a line. Invariants: refusals are only
/// `.refusedFioOption`; every accepted option is `--name` or `--name=value` in printable ASCII without
/// spaces, `$`, `/` or `\`, its name is on the allow-list and on no refusal list, its value has the form
/// its kind demands, and checking the accepted form again gives it back unchanged.
enum FioHarness {
    static func run(_ input: [UInt8]) {
        let options = String(decoding: input, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let accepted: FioOptions
        do {
            accepted = try FioOptions(options)
        } catch {
            require(error.code == .refusedFioOption, "an option refused with \(error.code)")
            return
        }
        require(accepted.arguments.count == options.count, "\(options.count) options became \(accepted.arguments.count) arguments")
        for argument in accepted.arguments {
            require(argument.hasPrefix("--"), "\(argument.debugDescription) does not start with --")
            require(argument.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "\(argument.debugDescription) is not printable ASCII without spaces")
            require(!argument.contains("$") && !argument.contains("/") && !argument.contains("\\"), "\(argument.debugDescription) passed")
            let parts = argument.dropFirst(2).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            require(FioOptions.refusalReason(name) == nil, "the refused option \(name) passed as \(argument.debugDescription)")
            guard let kind = FioOptions.allowed[name] else {
                require(false, "\(name) is not on the allow-list but passed as \(argument.debugDescription)")
                return
            }
            let value = parts.count == 2 ? parts[1] : nil
            require(wellFormed(value, kind), "\(argument.debugDescription) has a value unlike its kind \(kind)")
            do {
                require(try FioOptions.check(argument) == argument, "checking \(argument.debugDescription) again changes it")
            } catch {
                require(false, "\(argument.debugDescription), accepted once, is refused when checked again: \(error)")
            }
        }
    }

    /// What fio reads as a value of each kind, stated independently of the sanitiser: ASCII only.
    static func wellFormed(_ value: String?, _ kind: FioOptions.Value) -> Bool {
        func all(_ text: String, _ allowed: (UInt8) -> Bool) -> Bool { !text.isEmpty && text.utf8.allSatisfy(allowed) }
        let digit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        let letter: (UInt8) -> Bool = { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
        switch kind {
        case .none: return value == nil
        case .flag: return value == nil || value == "0" || value == "1"
        case .choice(let choices): return value.map { choices.contains($0.lowercased()) } ?? false
        case .number: return value.map { all($0, digit) } ?? false
        case .percent: return value.flatMap { Int($0) }.map { (0...100).contains($0) } ?? false
        case .size, .duration:
            guard let value, let first = value.utf8.first, digit(first) else { return false }
            return all(value) { digit($0) || letter($0) || $0 == UInt8(ascii: ".") } && value.utf8.count <= 20
        case .list: return value.map { all($0) { digit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") } } ?? false
        case .cpuList: return value.map { all($0) { digit($0) || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "-") } } ?? false
        case .text:
            guard let value, value.utf8.count <= 200 else { return false }
            return all(value) { digit($0) || letter($0) || ":,.%-_".utf8.contains($0) }
        }
    }
}
