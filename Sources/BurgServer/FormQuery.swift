import Hummingbird

extension Request {
    /// The query string decoded as a form (`+` is a space, as browsers and PocketBase's SDKs send it;
    /// `%2B` is a plus). The first value of a repeated name wins.
    var formQuery: [String: String] {
        var result: [String: String] = [:]
        for pair in (uri.query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = FormDecoding.decoded(parts[0])
            if result[name] == nil { result[name] = parts.count > 1 ? FormDecoding.decoded(parts[1]) : "" }
        }
        return result
    }
}

/// `application/x-www-form-urlencoded` values (query strings).
enum FormDecoding {
    /// `+` → space, `%XX` → that byte; the text as it is when that is not valid UTF-8 or a `%` is not
    /// followed by two hex digits (as `removingPercentEncoding` would refuse it).
    static func decoded(_ text: Substring) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }) else { return String(text) }
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            index = utf8.index(after: index)
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index != utf8.endIndex, let high = hex(utf8[index]) else { return String(text) }
                index = utf8.index(after: index)
                guard index != utf8.endIndex, let low = hex(utf8[index]) else { return String(text) }
                index = utf8.index(after: index)
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? String(text)
    }
}
