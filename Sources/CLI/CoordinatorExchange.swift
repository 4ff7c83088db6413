// CoordinatorExchange: one request to a running coordinator over a short-lived DEALER, and the first reply that matches.
import Foundation
import WireProtocol

/// The client side of `ablate status --connect` and the client actions: a fresh DEALER (with the client's CURVE
/// keys when given), the request sent once the socket takes it, and replies read until one matches or time is up.
enum CoordinatorExchange {
    /// Sends `message` to `endpoint` and returns the first decoded reply that `match` turns into a value; nil when
    /// none came within `timeoutMs`. Frames that do not decode, and replies `match` passes over, are skipped.
    static func ask<Reply>(
        _ message: Message, endpoint: String, timeoutMs: Int, curve: CurveClientKeys?,
        match: (Message) throws -> Reply?
    ) throws -> Reply? {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .dealer)
        defer { socket.close() }
        try socket.configureWorkerDealer()
        if let curve { try socket.configureCurveClient(curve) }
        try socket.connect(endpoint)
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        var sent = false
        while Date() < deadline {
            if !sent { sent = try socket.send(MessageCodec.encode(message)) }
            _ = try ZMQPoller(sockets: [socket]).poll(timeoutMs: 100)
            while let frames = try socket.receive() {
                guard let reply = try? MessageCodec.decode(frames) else { continue }
                if let value = try match(reply) { return value }
            }
        }
        return nil
    }
}
