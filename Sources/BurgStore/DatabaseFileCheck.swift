import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Looks at a database file *before* SQLite opens it, so that a file that is not a database, or one that
/// was cut short, is refused without SQLite touching it (opening in WAL mode writes to the header).
enum DatabaseFileCheck {
    enum Outcome: Equatable {
        /// No file (or an empty one): SQLite will create a new database.
        case absent
        case plausible
    }

    static let magic = Array("SQLite format 3\0".utf8)

    static func check(_ path: FilePath, walPath: FilePath) throws(StoreError) -> Outcome {
        let fd = path.withPlatformString { open($0, O_RDONLY | O_CLOEXEC) }
        if fd < 0 {
            let error = errno
            if error == ENOENT { return .absent }
            let code: StoreError.Code = (error == EACCES || error == EPERM) ? .readOnly : .io
            throw StoreError(code, path: path, message: String(cString: strerror(error)))
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw StoreError(.io, path: path, message: String(cString: strerror(errno)))
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw StoreError(.notADatabase, path: path, detail: "it is a directory")
        }
        let size = Int64(status.st_size)
        if size == 0 { return .absent }
        var header = [UInt8](repeating: 0, count: 100)
        let count = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 100, 0) }
        guard count == 100, Array(header[0..<16]) == magic else {
            throw StoreError(
                .notADatabase, path: path,
                detail: "it does not start with the SQLite header (\(size) bytes)")
        }
        let rawPageSize = Int64(header[16]) << 8 | Int64(header[17])
        let pageSize = rawPageSize == 1 ? 65_536 : rawPageSize
        guard pageSize >= 512, pageSize <= 65_536, pageSize & (pageSize - 1) == 0 else {
            throw StoreError(.corrupt, path: path, detail: "its header names an impossible page size \(rawPageSize)")
        }
        // The page count in the header is valid when "version-valid-for" equals the change counter. With a
        // non-empty WAL the main file may legitimately lag (a checkpoint was interrupted and will be
        // redone), so only a file without a WAL must be at least as long as its header says.
        let changeCounter = bigEndian32(header, at: 24)
        let headerPages = Int64(bigEndian32(header, at: 28))
        let validFor = bigEndian32(header, at: 92)
        var walStatus = stat()
        let walEmpty = walPath.withPlatformString { stat($0, &walStatus) } != 0 || walStatus.st_size == 0
        if validFor == changeCounter, headerPages > 0, walEmpty, size < headerPages * pageSize {
            throw StoreError(
                .corrupt, path: path,
                detail: "it is truncated: \(size) bytes, but its header counts \(headerPages) pages of "
                    + "\(pageSize) bytes (\(headerPages * pageSize) bytes)")
        }
        if size % pageSize != 0 && walEmpty {
            throw StoreError(
                .corrupt, path: path,
                detail: "its size \(size) is not a multiple of its page size \(pageSize)")
        }
        return .plausible
    }

    private static func bigEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }
}
