/// RFC 4180 CSV, fed line by line: quoted fields may hold commas, doubled quotes and newlines (a record
/// then spans several lines). Yields each record's fields once it is complete.
struct CSVRecordParser {
    private var fields: [String] = []
    private var field: [UInt8] = []
    private var inQuotes = false
    private var fieldWasQuoted = false

    /// Whether a quoted field is still open (the record continues on the next line).
    var isIncomplete: Bool { inQuotes }

    enum Failure: Error, Equatable { case quoteInsideUnquotedField, textAfterClosingQuote }

    /// Consumes one line; returns the record's fields if the line completed it.
    mutating func consume(_ line: ArraySlice<UInt8>) throws(Failure) -> [String]? {
        var index = line.startIndex
        if inQuotes { field.append(UInt8(ascii: "\n")) }  // the newline was inside the quoted field
        while index < line.endIndex {
            let byte = line[index]
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    let next = line.index(after: index)
                    if next < line.endIndex && line[next] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index = next
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(byte)
                }
            } else {
                switch byte {
                case UInt8(ascii: ","):
                    finishField()
                case UInt8(ascii: "\""):
                    if !field.isEmpty { throw .quoteInsideUnquotedField }
                    if fieldWasQuoted { throw .textAfterClosingQuote }
                    inQuotes = true
                    fieldWasQuoted = true
                default:
                    if fieldWasQuoted { throw .textAfterClosingQuote }
                    field.append(byte)
                }
            }
            index = line.index(after: index)
        }
        if inQuotes { return nil }
        finishField()
        defer { fields = [] }
        return fields
    }

    private mutating func finishField() {
        fields.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
        fieldWasQuoted = false
    }

    /// One CSV field, quoted when it needs to be.
    static func escape(_ value: String) -> String {
        // By byte, not by Character: "\r\n" is one Character, equal to neither "\r" nor "\n", and a quote
        // followed by a combining mark is a Character other than "\"".
        guard value.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") })
        else { return value }
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        quoted.reserveCapacity(value.utf8.count + 8)
        for byte in value.utf8 {
            if byte == UInt8(ascii: "\"") { quoted.append(byte) }  // doubled
            quoted.append(byte)
        }
        quoted.append(UInt8(ascii: "\""))
        return String(decoding: quoted, as: UTF8.self)
    }
}
