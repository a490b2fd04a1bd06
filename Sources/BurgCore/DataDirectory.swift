import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Burg's data directory (`./burg_data` by default): where the database, files, logs and backups live.
public enum DataDirectory {
    /// The default, relative to the working directory.
    public static let defaultPath: FilePath = "burg_data"

    /// Makes sure `path` exists as a directory Burg can write, creating it (and missing parents) with
    /// permissions 0700 if needed. Throws ``AtomicFileError`` naming the path when it cannot.
    public static func prepare(_ path: FilePath) throws(AtomicFileError) {
        var status = stat()
        if path.withPlatformString({ stat($0, &status) }) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFDIR else {
                throw AtomicFileError(.io, path: path, underlying: SystemError(call: "data directory", errno: ENOTDIR))
            }
            guard path.withPlatformString({ access($0, W_OK | X_OK) }) == 0 else {
                throw AtomicFileError.from(.current("access"), path: path)
            }
            return
        }
        let parent = path.removingLastComponent()
        if !parent.isEmpty && !parent.components.isEmpty {
            try prepare(parent)
        }
        if path.withPlatformString({ mkdir($0, 0o700) }) != 0 && errno != EEXIST {
            throw AtomicFileError.from(.current("mkdir"), path: path)
        }
    }
}
