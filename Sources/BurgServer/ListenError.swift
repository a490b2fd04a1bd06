import BurgCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The HTTP address cannot be listened on: in use, not an address of this machine, or a privileged port.
public struct ListenError: BurgError {
    public let host: String
    public let port: Int
    public let errorNumber: Int32

    public var exitCode: Int32 {
        switch errorNumber {
        case EADDRINUSE: ExitStatus.tempFail
        case EACCES, EPERM: ExitStatus.noPermission
        default: ExitStatus.unavailable
        }
    }

    public var description: String {
        let address = "\(host):\(port)"
        return switch errorNumber {
        case EADDRINUSE:
            "cannot listen on \(address): another process (another `burg serve`?) already listens there; stop it or pass --http HOST:PORT"
        case EACCES, EPERM:
            "cannot listen on \(address): ports below 1024 need privileges; pass --http with a port of 1024 or more"
        case EADDRNOTAVAIL:
            "cannot listen on \(address): \(host) is not an address of this machine; pass --http 127.0.0.1:\(port) or 0.0.0.0:\(port)"
        default:
            "cannot listen on \(address): \(String(cString: strerror(errorNumber))); pass another --http HOST:PORT"
        }
    }

    /// Binds and closes a socket on `host:port` (as the server will, with SO_REUSEADDR) so that a busy or
    /// foreign address is reported in words before any service starts. Port 0 always works.
    public static func check(host: String, port: Int) throws(ListenError) {
        guard port != 0 else { return }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw ListenError(host: host, port: port, errorNumber: EADDRNOTAVAIL)
        }
        defer { freeaddrinfo(list) }
        let descriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0 else { return }  // no socket to probe with: let the server report it
        defer { close(descriptor) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 || listen(descriptor, 1) != 0 {
            throw ListenError(host: host, port: port, errorNumber: errno)
        }
    }
}
