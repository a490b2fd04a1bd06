/// Messages for command lines ArgumentParser refuses in words that do not say what to type instead.
enum CommandLineHints {
    /// `--sort -created` or `--count -3`: ArgumentParser reads the value as an option and answers
    /// "Missing value for '--sort <sort>'". Returns what to write instead, or nil for other errors.
    static func optionLikeValue(message: String, arguments: [String]) -> String? {
        let prefix = "Missing value for '"
        guard message.hasPrefix(prefix) else { return nil }
        let option = message.dropFirst(prefix.count).prefix { $0 != " " && $0 != "'" }
        guard option.hasPrefix("--"), let index = arguments.firstIndex(of: String(option)), index + 1 < arguments.count else {
            return nil
        }
        let value = arguments[index + 1]
        guard value.hasPrefix("-"), value != "--" else { return nil }
        return "\(option) needs a value, and \(value) after it reads as an option because it starts with -; write \(option)=\(value)"
    }
}
