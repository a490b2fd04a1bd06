import Foundation
import SystemPackage

#if os(Linux)
import CBurgSystem
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What kind of file system holds a path, and how much room it has.
///
/// Burg refuses locks and SQLite's WAL on network file systems (NFS, SMB/CIFS and similar): their
/// byte-range locks and shared memory are unreliable across machines, which is how databases get
/// corrupted. ``isNetwork`` is what those refusals test.
public struct FileSystemInfo: Sendable, Equatable {
    /// A short name for the file system type: "ext4", "xfs", "tmpfs", "nfs", "cifs", ...
    public var typeName: String
    /// The raw type identifier (Linux: `statfs.f_type` magic number; elsewhere 0).
    public var magic: Int64
    /// True for file systems whose locks cannot be trusted across machines (NFS, SMB/CIFS, AFS, 9p, Ceph...).
    public var isNetwork: Bool
    /// True where data lives only in memory (tmpfs, ramfs): direct I/O is impossible, nothing survives reboot.
    public var isMemoryBacked: Bool
    /// Bytes an unprivileged process may still write.
    public var availableBytes: UInt64
    /// Size of the file system in bytes.
    public var totalBytes: UInt64
    /// The path that was actually examined: the given path, or its nearest existing ancestor.
    public var examinedPath: FilePath

    /// Examines the file system holding `path`. A path that does not exist yet is answered for its nearest
    /// existing ancestor (the file system it would be created on).
    public static func of(_ path: FilePath) throws(SystemError) -> FileSystemInfo {
        var candidate = path.isAbsolute ? path : FilePath(FileManager.default.currentDirectoryPath).pushing(path)
        candidate.lexicallyNormalize()
        while true {
            do {
                return try examine(candidate)
            } catch where error.errno == ENOENT || error.errno == ENOTDIR {
                if candidate.components.isEmpty { throw error }
                candidate = candidate.removingLastComponent()
            }
        }
    }

    private static func examine(_ path: FilePath) throws(SystemError) -> FileSystemInfo {
        #if os(Linux)
        var buffer = statfs()
        let rc = path.withPlatformString { statfs($0, &buffer) }
        guard rc == 0 else { throw SystemError.current("statfs(\(path))") }
        let magic = Int64(buffer.f_type) & 0xFFFF_FFFF
        let known = linuxTypes[magic]
        return FileSystemInfo(
            typeName: known?.name ?? "0x" + String(magic, radix: 16),
            magic: magic,
            isNetwork: known?.kind == .network,
            isMemoryBacked: known?.kind == .memory,
            availableBytes: UInt64(buffer.f_bavail) * UInt64(buffer.f_frsize),
            totalBytes: UInt64(buffer.f_blocks) * UInt64(buffer.f_frsize),
            examinedPath: path
        )
        #elseif canImport(Darwin)
        // Untested: Darwin is compile-guarded only (see docs/ARCHITECTURE.md).
        var buffer = statfs()
        let rc = path.withPlatformString { statfs($0, &buffer) }
        guard rc == 0 else { throw SystemError.current("statfs(\(path))") }
        let name = withUnsafeBytes(of: buffer.f_fstypename) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let network: Set<String> = ["nfs", "smbfs", "afpfs", "webdav", "cifs", "ftp"]
        return FileSystemInfo(
            typeName: name,
            magic: 0,
            isNetwork: network.contains(name),
            isMemoryBacked: false,
            availableBytes: UInt64(buffer.f_bavail) * UInt64(buffer.f_bsize),
            totalBytes: UInt64(buffer.f_blocks) * UInt64(buffer.f_bsize),
            examinedPath: path
        )
        #else
        throw SystemError(call: "statfs(\(path)) is not implemented on this platform", errno: 0)
        #endif
    }

    private enum Kind { case local, network, memory }

    /// Linux `statfs.f_type` magic numbers (linux/magic.h) of the file systems Burg is likely to meet.
    private static let linuxTypes: [Int64: (name: String, kind: Kind)] = [
        0xEF53: ("ext4", .local), 0x5846_5342: ("xfs", .local), 0x9123_683E: ("btrfs", .local),
        0x2FC1_2FC1: ("zfs", .local), 0xF2F5_2010: ("f2fs", .local), 0x794C_7630: ("overlayfs", .local),
        0x4D44: ("vfat", .local), 0x2011_BAB0: ("exfat", .local), 0x5346_544E: ("ntfs", .local),
        0x7366_746E: ("ntfs3", .local), 0x6573_5546: ("fuse", .local), 0x7371_7368: ("squashfs", .local),
        0x0102_1994: ("tmpfs", .memory), 0x8584_58F6: ("ramfs", .memory),
        0x6969: ("nfs", .network), 0x517B: ("smb", .network), 0xFF53_4D42: ("cifs", .network),
        0xFE53_4D42: ("smb2", .network), 0x5346_414F: ("afs", .network), 0x7375_7245: ("coda", .network),
        0x564C: ("ncp", .network), 0x0102_1997: ("9p", .network), 0x00C3_6400: ("ceph", .network),
        0x0BD0_0BD0: ("lustre", .network),
    ]
}
