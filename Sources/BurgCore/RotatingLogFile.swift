import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only log file that rotates by size: `<directory>/burg.log` holds the newest lines,
/// `burg.log.1` the ones before, up to `burg.log.<maxFiles - 1>`, the oldest kept.
///
/// Guarantees:
/// - **Bounded.** At most `maxFiles` files exist (this file and its numbered predecessors), and no file
///   grows past `maxBytes`: a line that would take it past the limit goes to a fresh file instead. (A
///   single line longer than `maxBytes` gets a file of its own, whole; lines are never split. If the
///   file cannot be renamed aside — its directory was removed or made read-only — lines keep going to
///   it rather than being lost, and each later write tries to rotate again.)
/// - **Whole lines, in order.** Each ``write(_:)`` appends one line; writes from any number of threads
///   are serialised, so lines never interleave, and rotation never loses a line except by dropping the
///   oldest file.
/// - **Never fails the caller.** A write that cannot be done (disk full, directory removed) is counted in
///   ``failedWrites`` and dropped; later writes try again, re-opening the file if needed.
/// - **Not durable.** A log is not data: lines reach the kernel at once (a crash of the process loses
///   none) but are not flushed to disk, so a power loss can lose the last seconds.
///
/// **One writer per directory.** Rotation renames files without coordinating with other processes, so
/// only one process may write a data directory's log: `burg serve` writes it while it holds the data
/// directory's ``InstanceLock``. Other commands log to stdout only.
///
/// New files are created with permissions 0600 (they may contain user e-mail addresses and request
/// details); an existing file keeps its permissions and is appended to.
public final class RotatingLogFile: Sendable {
    /// The file being written: `<directory>/<baseName>`.
    public let path: FilePath
    /// The size limit of one file, in bytes.
    public let maxBytes: Int
    /// How many files are kept, the current one included.
    public let maxFiles: Int

    private struct State: Sendable {
        /// nil after a failed re-open; the next write tries again.
        var descriptor: FileDescriptor?
        var size: Int
        var failedWrites: Int = 0
    }

    private let state: Mutex<State>

    /// Opens (creating if needed) `<directory>/<baseName>` for appending. Throws ``AtomicFileError``
    /// naming the file and the reason (missing directory, permission, read-only file system, ...).
    public init(
        directory: FilePath, baseName: String = "burg.log", maxBytes: Int = 10_000_000, maxFiles: Int = 10
    ) throws(AtomicFileError) {
        precondition(maxBytes > 0, "maxBytes must be positive")
        precondition(maxFiles > 0, "maxFiles must be positive")
        path = directory.appending(baseName)
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
        let descriptor: FileDescriptor
        switch Self.open(path) {
        case .success(let opened): descriptor = opened
        case .failure(let error): throw AtomicFileError.from(error, path: path)
        }
        state = Mutex(State(descriptor: descriptor, size: Self.size(of: descriptor)))
    }

    deinit {
        state.withLock { state in
            try? state.descriptor?.close()
            state.descriptor = nil
        }
    }

    /// How many lines could not be written since this instance was created.
    public var failedWrites: Int {
        state.withLock { $0.failedWrites }
    }

    /// Appends `line` and a newline, rotating first if the file would grow past ``maxBytes``. Never
    /// throws and never traps: a failure is counted in ``failedWrites``.
    public func write(_ line: String) {
        var line = line
        line.append("\n")
        line.withUTF8 { bytes in
            state.withLock { state in
                if state.descriptor == nil {
                    // An earlier rotation could not open the new file; try again.
                    reopen(&state)
                }
                if state.descriptor != nil && state.size > 0 && state.size + bytes.count > maxBytes {
                    rotate(&state)
                }
                guard let descriptor = state.descriptor else {
                    state.failedWrites += 1
                    return
                }
                let written = Self.writeAll(UnsafeRawBufferPointer(bytes), to: descriptor)
                state.size += written
                if written < bytes.count {
                    state.failedWrites += 1
                    // Terminate a torn line so that the next one starts on a line of its own.
                    if written > 0 {
                        state.size += Self.writeAll(Self.newline, to: descriptor)
                    }
                }
            }
        }
    }

    private static let newline: StaticString = "\n"

    // MARK: - Steps

    /// `burg.log.<n>` → `burg.log.<n+1>` from the oldest kept down, `burg.log` → `burg.log.1`, then a
    /// fresh `burg.log`. rename(2) replaces its target, so the oldest file is dropped by being renamed
    /// over; with `maxFiles == 1` the current file is simply removed.
    private func rotate(_ state: inout State) {
        if maxFiles > 1 {
            var index = maxFiles - 2
            while index >= 1 {
                // ENOENT (fewer files than the limit so far) is expected; other errors change nothing.
                _ = move(numbered(index), to: numbered(index + 1))
                index -= 1
            }
            let moved = move(path, to: numbered(1))
            // ENOENT: someone removed the current file; start a new one rather than append to the
            // unlinked one. Otherwise (directory gone, read-only): keep appending to the current file
            // rather than lose lines; the next write tries again.
            guard moved == 0 || moved == ENOENT else { return }
        } else {
            _ = path.withPlatformString { unlink($0) }
        }
        try? state.descriptor?.close()
        state.descriptor = nil
        reopen(&state)
    }

    private func reopen(_ state: inout State) {
        guard case .success(let descriptor) = Self.open(path) else { return }
        state.descriptor = descriptor
        state.size = Self.size(of: descriptor)
    }

    private func numbered(_ index: Int) -> FilePath {
        FilePath(path.string + ".\(index)")
    }

    /// rename(2); 0 or the errno.
    private func move(_ from: FilePath, to: FilePath) -> Int32 {
        from.withPlatformString { source in
            to.withPlatformString { target in rename(source, target) == 0 ? 0 : currentErrno() }
        }
    }

    private static func open(_ path: FilePath) -> Result<FileDescriptor, SystemError> {
        do {
            let descriptor = try FileDescriptor.open(
                path, .writeOnly, options: [.append, .create, .closeOnExec], permissions: .ownerReadWrite)
            return .success(descriptor)
        } catch let error as Errno {
            return .failure(SystemError(call: "open", errno: error.rawValue))
        } catch {
            return .failure(SystemError(call: "open", errno: EIO))
        }
    }

    private static func size(of descriptor: FileDescriptor) -> Int {
        var status = stat()
        guard fstat(descriptor.rawValue, &status) == 0 else { return 0 }
        return Int(status.st_size)
    }

    /// Writes as much of `bytes` as the descriptor takes (EINTR is retried by FileDescriptor; any other
    /// error, such as EPIPE or EAGAIN, drops the rest); returns how many bytes were written.
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: FileDescriptor) -> Int {
        var offset = 0
        while offset < bytes.count {
            guard let written = try? descriptor.write(UnsafeRawBufferPointer(rebasing: bytes[offset...])),
                  written > 0
            else { break }
            offset += written
        }
        return offset
    }

    private static func writeAll(_ bytes: StaticString, to descriptor: FileDescriptor) -> Int {
        writeAll(UnsafeRawBufferPointer(start: bytes.utf8Start, count: bytes.utf8CodeUnitCount), to: descriptor)
    }
}
