#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif os(Windows)
import ucrt
import WinSDK
#endif

/// The operating system's lock call, one per platform.
///
/// - Linux: open-file-description locks. They belong to the open file description, not the process, so
///   closing another descriptor of the file does not drop them and two descriptions in one process conflict.
/// - Darwin (untested, compile-guarded): `flock`, which has the same two properties.
/// - Windows (untested, compile-guarded): `LockFileEx` over the whole sidecar file, on the handle behind
///   the CRT descriptor. Windows locks are per handle, so they share both properties too. The rest of
///   BurgCore's file I/O is POSIX, so Burg does not build for Windows yet (docs/ARCHITECTURE.md).
enum LockPrimitive {
    enum Outcome {
        case acquired
        case busy
        case failed(SystemError)
    }

    #if os(Linux)
    // From <fcntl.h> under _GNU_SOURCE, which Swift's Glibc module does not import. Same on every Linux arch.
    private static let F_OFD_SETLK: Int32 = 37
    private static let F_OFD_SETLKW: Int32 = 38
    private static let F_OFD_GETLK: Int32 = 36
    #endif

    /// Whether another open file description holds a lock that `mode` would conflict with, asked
    /// without taking any lock, so that asking never makes a concurrent `set` elsewhere fail. nil: this
    /// platform cannot ask without locking (Darwin's `flock`, Windows), or the call failed.
    static func isHeldElsewhere(_ descriptor: Int32, conflictingWith mode: LockMode) -> Bool? {
        #if os(Linux)
        var request = flock()
        request.l_type = Int16(mode == .exclusive ? F_WRLCK : F_RDLCK)
        request.l_whence = Int16(SEEK_SET)
        request.l_start = 0
        request.l_len = 0
        request.l_pid = 0  // required for OFD locks
        guard fcntl(descriptor, F_OFD_GETLK, &request) == 0 else { return nil }
        return request.l_type != Int16(F_UNLCK)
        #else
        return nil
        #endif
    }

    /// Takes `mode` on `descriptor`. With `wait`, sleeps in the kernel until granted; a signal makes it
    /// return `.failed(EINTR)` so that a waiter can be interrupted.
    static func set(_ descriptor: Int32, _ mode: LockMode, wait: Bool) -> Outcome {
        #if os(Linux)
        var request = flock()
        request.l_type = Int16(mode == .exclusive ? F_WRLCK : F_RDLCK)
        request.l_whence = Int16(SEEK_SET)
        request.l_start = 0
        request.l_len = 0  // the whole file, however large it grows
        request.l_pid = 0  // required for OFD locks
        let rc = fcntl(descriptor, wait ? F_OFD_SETLKW : F_OFD_SETLK, &request)
        if rc == 0 { return .acquired }
        let code = errno
        if !wait && (code == EAGAIN || code == EACCES) { return .busy }
        return .failed(SystemError(call: "fcntl(F_OFD_SETLK\(wait ? "W" : ""))", errno: code))
        #elseif canImport(Darwin)
        let operation = (mode == .exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)
        if flock(descriptor, operation) == 0 { return .acquired }
        let code = errno
        if !wait && code == EWOULDBLOCK { return .busy }
        return .failed(SystemError(call: "flock", errno: code))
        #elseif os(Windows)
        let handle = HANDLE(bitPattern: _get_osfhandle(descriptor))
        var overlapped = OVERLAPPED()
        var flags = DWORD(mode == .exclusive ? LOCKFILE_EXCLUSIVE_LOCK : 0)
        if !wait { flags |= DWORD(LOCKFILE_FAIL_IMMEDIATELY) }
        if LockFileEx(handle, flags, 0, DWORD.max, DWORD.max, &overlapped) { return .acquired }
        let code = GetLastError()
        if !wait && code == DWORD(ERROR_LOCK_VIOLATION) { return .busy }
        return .failed(SystemError(call: "LockFileEx", errno: Int32(bitPattern: code)))
        #else
        #error("FileLock has no lock primitive for this platform")
        #endif
    }

    static func release(_ descriptor: Int32) -> Bool {
        #if os(Linux)
        var request = flock()
        request.l_type = Int16(F_UNLCK)
        request.l_whence = Int16(SEEK_SET)
        return fcntl(descriptor, F_OFD_SETLK, &request) == 0
        #elseif canImport(Darwin)
        return flock(descriptor, LOCK_UN) == 0
        #elseif os(Windows)
        var overlapped = OVERLAPPED()
        return UnlockFileEx(HANDLE(bitPattern: _get_osfhandle(descriptor)), 0, DWORD.max, DWORD.max, &overlapped)
        #endif
    }
}
