// SocketConfiguration: option names, and the coordinator ROUTER and worker DEALER settings of the protocol.
import CZeroMQ

/// libzmq option numbers used by the protocol, so callers need not import the C module.
public enum ZMQOption {
    public static let linger: Int32 = ZMQ_LINGER
    public static let routerMandatory: Int32 = ZMQ_ROUTER_MANDATORY
    public static let routerHandover: Int32 = ZMQ_ROUTER_HANDOVER
    public static let routingId: Int32 = ZMQ_ROUTING_ID
    /// `int64_t`: largest frame accepted; a peer sending a larger one is disconnected.
    public static let maxMessageSize: Int32 = ZMQ_MAXMSGSIZE
    public static let handshakeInterval: Int32 = ZMQ_HANDSHAKE_IVL
    public static let heartbeatInterval: Int32 = ZMQ_HEARTBEAT_IVL
    public static let heartbeatTimeout: Int32 = ZMQ_HEARTBEAT_TIMEOUT
    public static let heartbeatTTL: Int32 = ZMQ_HEARTBEAT_TTL
    public static let immediate: Int32 = ZMQ_IMMEDIATE
    public static let reconnectInterval: Int32 = ZMQ_RECONNECT_IVL
    public static let reconnectIntervalMax: Int32 = ZMQ_RECONNECT_IVL_MAX
    public static let sendHighWaterMark: Int32 = ZMQ_SNDHWM
    public static let receiveHighWaterMark: Int32 = ZMQ_RCVHWM
    public static let zapDomain: Int32 = ZMQ_ZAP_DOMAIN
    public static let curveServer: Int32 = ZMQ_CURVE_SERVER
    public static let curvePublicKey: Int32 = ZMQ_CURVE_PUBLICKEY
    public static let curveSecretKey: Int32 = ZMQ_CURVE_SECRETKEY
    public static let curveServerKey: Int32 = ZMQ_CURVE_SERVERKEY
}

extension ZMQSocket {
    /// ZMTP (connection-level) heartbeats: a PING every 2 s; the connection is dropped after 6 s without traffic.
    /// They complement, not replace, the protocol's HEARTBEAT messages. Set before bind/connect.
    public func configureTransportHeartbeats() throws(ZMQError) {
        try setOption(ZMQ_HEARTBEAT_IVL, Int32(2000))
        try setOption(ZMQ_HEARTBEAT_TIMEOUT, Int32(6000))
        try setOption(ZMQ_HEARTBEAT_TTL, Int32(6000))
    }

    /// The coordinator's ROUTER, before `bind`: unroutable sends fail with `EHOSTUNREACH` (ROUTER_MANDATORY),
    /// LINGER 0, frames above `maxFrameBytes` disconnect their sender (MAXMSGSIZE, pass
    /// `FrameLimits.socketMaxFrameBytes`), handshakes must finish within 5 s, ZMTP heartbeats on.
    public func configureCoordinatorRouter(maxFrameBytes: Int64) throws(ZMQError) {
        try setOption(ZMQ_ROUTER_MANDATORY, Int32(1))
        try setOption(ZMQ_LINGER, Int32(0))
        try setOption(ZMQ_MAXMSGSIZE, maxFrameBytes)
        try setOption(ZMQ_HANDSHAKE_IVL, Int32(5000))
        try configureTransportHeartbeats()
    }

    /// A worker's (or status client's) DEALER, before `connect`: queue only on completed connections (IMMEDIATE),
    /// LINGER 0, reconnect after 1 s backing off to 32 s, ZMTP heartbeats on.
    public func configureWorkerDealer() throws(ZMQError) {
        try setOption(ZMQ_IMMEDIATE, Int32(1))
        try setOption(ZMQ_LINGER, Int32(0))
        try setOption(ZMQ_RECONNECT_IVL, Int32(1000))
        try setOption(ZMQ_RECONNECT_IVL_MAX, Int32(32000))
        try configureTransportHeartbeats()
    }
}
