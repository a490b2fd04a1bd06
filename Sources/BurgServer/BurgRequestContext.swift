import Hummingbird
import NIOCore

/// The request context of Burg's routes: Hummingbird's core storage plus the client's address (for
/// lockouts and rate limits). The signed-in identity is resolved per route (``RequestAuth``).
public struct BurgRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The client's address as a trusted proxy reported it (``TrustedProxyMiddleware``), if one did.
    var forwardedIP: String?
    /// Filled in as the request runs (the caller), for the request log line.
    let log = RequestLogState()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// JSON and form bodies above this are refused with 413 (before they are read when their length is
    /// declared; see ``BodyLimitMiddleware``). Multipart uploads have their own limit.
    public static let maxBodySize = 32 << 20
    public var maxUploadSize: Int { Self.maxBodySize }

    /// The client's IP address as text: the one a trusted proxy reported (`trustedProxy` settings), else
    /// the connection's ("unknown" for a Unix socket).
    public var clientIP: String { forwardedIP ?? remoteAddress?.ipAddress ?? "unknown" }
}
