// Outbox: where a sweep's loop sends its messages — the ROUTER itself, or a lab's filter in front of it.
import WireProtocol

/// The sending side of a coordinator loop. A single-sweep coordinator sends straight to its ROUTER; a lab
/// (`LabServer`) puts a filter in front that keeps session traffic (WELCOME, HEARTBEAT, DISCONNECT) its own.
public protocol Outbox {
    /// Sends `message` to `peer` without blocking; false when the peer's queue is full (the message is dropped).
    /// Throws when the peer cannot be routed.
    func deliver(_ message: Message, to peer: PeerID) throws -> Bool
}

extension ZMQSocket: Outbox {
    public func deliver(_ message: Message, to peer: PeerID) throws -> Bool {
        try send(to: peer, frames: MessageCodec.encode(message))
    }
}
