#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif os(Windows)
import ucrt
#endif

/// A failed system call: which call, its errno, and the text the C library gives for it.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// The errno text, e.g. "No such file or directory".
    public var message: String { String(cString: strerror(errno)) }

    public var description: String { "\(call): \(message) (errno \(errno))" }

    /// Captures the current `errno` for the named call.
    static func current(_ call: String) -> SystemError {
        SystemError(call: call, errno: currentErrno())
    }
}

@inline(__always)
func currentErrno() -> Int32 {
    #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
    return errno
    #else
    return 0
    #endif
}

/// Repeats a system call while it fails with EINTR (a signal arrived before it could finish).
@inline(__always)
func retryingOnInterrupt<T: FixedWidthInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result == -1 && currentErrno() == EINTR { continue }
        return result
    }
}
