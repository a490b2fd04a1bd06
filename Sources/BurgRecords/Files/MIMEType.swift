/// A file's MIME type, from its first bytes where they are distinctive, else from its extension — the
/// content decides, so renaming `virus.exe` to `photo.jpg` does not make it an image.
public enum MIMEType {
    public static func detect(_ prefix: [UInt8], filename: String) -> String {
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            prefix.count >= offset + signature.count && Array(prefix[offset..<offset + signature.count]) == signature
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        if starts(Array("ftyp".utf8), at: 4) { return "video/mp4" }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "application/zip" }
        if starts([0x7F, 0x45, 0x4C, 0x46]) || starts(Array("MZ".utf8)) { return "application/octet-stream" }
        let ext = filename.split(separator: ".").last.map { $0.lowercased() } ?? ""
        switch ext {
        case "txt", "log": return "text/plain"
        case "csv": return "text/csv"
        case "json": return "application/json"
        case "dcm": return "application/dicom"
        default: return "application/octet-stream"
        }
    }
}
