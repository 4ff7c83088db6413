// DashboardContext: the per-request context of the dashboard's HTTP server — Hummingbird's core storage and the peer.
import Hummingbird

/// A request's context: what Hummingbird needs and whether the TCP peer is a loopback address.
public struct DashboardContext: RequestContext {
    /// Hummingbird's own per-request storage (logger, path, parameters).
    public var coreContext: CoreRequestContextStorage
    /// The peer's address is in 127.0.0.0/8 or is ::1 (false when unknown, e.g. a Unix socket).
    public let peerIsLoopback: Bool

    /// The context of a request arriving on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerIsLoopback = source.channel.remoteAddress?.ipAddress.map { HTTPBindAddress.isLoopback(host: $0) } ?? false
    }
}
