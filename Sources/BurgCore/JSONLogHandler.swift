import Logging
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler that writes each event as one line of JSON to stdout (or stderr, for commands
/// whose stdout is their result) and, optionally, to a ``RotatingLogFile``:
///
/// ```
/// {"time":"2026-11-24T10:00:00.123Z","level":"info","label":"burg.http","message":"…","request":"42"}
/// ```
///
/// Guarantees:
/// - **One valid JSON object per line.** Strings are escaped (quotes, backslashes, control characters
///   as `\u00XX`), so a message or value containing newlines still yields exactly one line.
/// - **Whole lines.** Lines of concurrent loggers never interleave: stdout is written under one lock
///   for the whole process, one write(2) per line; the file serialises its own writes.
/// - **Metadata as top-level keys**, in key order: the handler's metadata, overridden by the metadata
///   provider's, overridden by the call's own (swift-log's usual precedence); an event's error adds
///   `error.message` and `error.type`. Nested dictionaries and arrays become JSON objects and arrays;
///   other values become strings. A key that would clash with `time`, `level`, `label` or `message` is
///   written as `meta_<key>`.
/// - **Logging never fails the caller**: output that cannot be written is dropped (and counted by the
///   file, see ``RotatingLogFile/failedWrites``).
///
/// `time` is UTC with milliseconds; `level` is swift-log's level name (`trace` … `critical`).
public struct JSONLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    /// Where the stream lines go (stdout, or stderr); nil: to no stream. Tests point it at a pipe.
    var standardOutput: FileDescriptor?
    private let file: RotatingLogFile?

    /// A handler for the logger `label`. `metadataProvider` defaults to the one the logging system was
    /// bootstrapped with.
    public init(
        label: String, stdout: Bool = true, file: RotatingLogFile? = nil, logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) {
        self.label = label
        self.standardOutput = stdout ? .standardOutput : nil
        self.file = file
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
    }

    /// Makes every `Logger` of the process use a `JSONLogHandler` writing to `stream` (stdout unless
    /// said otherwise) and `file`. Like `LoggingSystem.bootstrap`, callable once per process.
    public static func bootstrap(
        file: RotatingLogFile?, logLevel: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil,
        stream: FileDescriptor = .standardOutput
    ) {
        LoggingSystem.bootstrap(
            { label, provider in
                var handler = JSONLogHandler(label: label, file: file, logLevel: logLevel, metadataProvider: provider)
                handler.standardOutput = stream
                return handler
            },
            metadataProvider: metadataProvider)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        guard standardOutput != nil || file != nil else { return }
        let line = render(event)
        if let file { file.write(line) }
        if let standardOutput {
            var output = line
            output.append("\n")
            output.withUTF8 { bytes in
                Self.standardOutputLock.withLock { _ in
                    _ = RotatingLogFile.writeAll(UnsafeRawBufferPointer(bytes), to: standardOutput)
                }
            }
        }
    }

    /// Serialises stdout writes of all handlers in the process, so that even lines longer than a pipe's
    /// atomic write size (4 KiB) never interleave.
    private static let standardOutputLock = Mutex<Void>(())

    // MARK: - Rendering

    /// The JSON line for `event`, without the newline.
    func render(_ event: LogEvent) -> String {
        var line = ""
        line.reserveCapacity(128 + event.message.description.utf8.count)
        line.append(#"{"time":""#)
        Self.appendTimestamp(to: &line)
        line.append(#"","level":""#)
        line.append(event.level.rawValue)
        line.append(#"","label":"#)
        Self.appendString(label, to: &line)
        line.append(#","message":"#)
        Self.appendString(event.message.description, to: &line)

        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, explicit in explicit }
        }
        if let error = event.error {
            merged["error.message"] = .string("\(error)")
            merged["error.type"] = .string(String(reflecting: type(of: error)))
        }
        if !merged.isEmpty {
            for key in merged.keys.sorted() {
                line.append(",")
                Self.appendString(Self.topLevelKey(key, avoiding: merged), to: &line)
                line.append(":")
                Self.appendValue(merged[key]!, to: &line)
            }
        }
        line.append("}")
        return line
    }

    private static let reservedKeys: Set<String> = ["time", "level", "label", "message"]

    /// `key`, or `meta_<key>` if it would clash with a field of every line (`meta_meta_<key>` if that is
    /// taken too, and so on), so that no object has a key twice.
    private static func topLevelKey(_ key: String, avoiding metadata: Logger.Metadata) -> String {
        guard reservedKeys.contains(key) else { return key }
        var renamed = "meta_" + key
        while metadata[renamed] != nil { renamed = "meta_" + renamed }
        return renamed
    }

    private static func appendValue(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let string):
            appendString(string, to: &line)
        case .stringConvertible(let convertible):
            appendString(convertible.description, to: &line)
        case .dictionary(let dictionary):
            line.append("{")
            var first = true
            for key in dictionary.keys.sorted() {
                if !first { line.append(",") }
                first = false
                appendString(key, to: &line)
                line.append(":")
                appendValue(dictionary[key]!, to: &line)
            }
            line.append("}")
        case .array(let array):
            line.append("[")
            var first = true
            for element in array {
                if !first { line.append(",") }
                first = false
                appendValue(element, to: &line)
            }
            line.append("]")
        }
    }

    /// Appends `string` as a quoted JSON string.
    static func appendString(_ string: String, to line: inout String) {
        line.append("\"")
        // Most strings need no escaping: append them whole.
        if !string.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            line.append(string)
        } else {
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": line.append(#"\""#)
                case "\\": line.append(#"\\"#)
                case "\n": line.append(#"\n"#)
                case "\r": line.append(#"\r"#)
                case "\t": line.append(#"\t"#)
                case _ where scalar.value < 0x20:
                    line.append(#"\u00"#)
                    line.unicodeScalars.append(hexDigit(scalar.value >> 4))
                    line.unicodeScalars.append(hexDigit(scalar.value & 0xF))
                default:
                    line.unicodeScalars.append(scalar)
                }
            }
        }
        line.append("\"")
    }

    private static func hexDigit(_ value: UInt32) -> Unicode.Scalar {
        Unicode.Scalar(UInt8(value < 10 ? 48 + value : 87 + value))
    }

    /// Appends the current time as `2026-11-24T10:00:00.123Z` (UTC).
    private static func appendTimestamp(to line: inout String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        appendDigits(Int(parts.tm_year) + 1900, width: 4, to: &line)
        line.append("-")
        appendDigits(Int(parts.tm_mon) + 1, width: 2, to: &line)
        line.append("-")
        appendDigits(Int(parts.tm_mday), width: 2, to: &line)
        line.append("T")
        appendDigits(Int(parts.tm_hour), width: 2, to: &line)
        line.append(":")
        appendDigits(Int(parts.tm_min), width: 2, to: &line)
        line.append(":")
        appendDigits(Int(parts.tm_sec), width: 2, to: &line)
        line.append(".")
        appendDigits(Int(now.tv_nsec) / 1_000_000, width: 3, to: &line)
        line.append("Z")
    }

    /// `value` in decimal, zero-padded to `width` digits (more if it needs them).
    private static func appendDigits(_ value: Int, width: Int, to line: inout String) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            line.unicodeScalars.append(Unicode.Scalar(UInt8(48 + (value / divisor) % 10)))
            divisor /= 10
        }
    }
}
