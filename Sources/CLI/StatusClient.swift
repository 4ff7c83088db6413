// StatusClient: one STATUS_REQUEST to a coordinator over a short-lived DEALER, for `ablate status --connect`.
import CoordinatorKit
import Foundation
import WireProtocol

/// One STATUS_REQUEST over a short-lived DEALER.
enum StatusClient {
    static func request(_ endpoint: String, timeoutMs: Int, curve: CurveClientKeys? = nil) throws -> StatusReply {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .dealer)
        defer { socket.close() }
        try socket.configureWorkerDealer()
        if let curve { try socket.configureCurveClient(curve) }
        try socket.connect(endpoint)
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        var sent = false
        while Date() < deadline {
            if !sent { sent = try socket.send(MessageCodec.encode(.statusRequest(StatusRequest()))) }
            _ = try ZMQPoller(sockets: [socket]).poll(timeoutMs: 100)
            while let frames = try socket.receive() {
                if case .statusReply(let reply) = try? MessageCodec.decode(frames) { return reply }
            }
        }
        let hint =
            curve == nil
            ? "is a coordinator serving there, without CURVE?"
            : "is a coordinator serving there, and is this key's public half in its authorized keys (an unlisted key gets no answer)?"
        throw RunFailure(message: "\(endpoint): no answer from a coordinator within \(timeoutMs / 1000) s; \(hint)")
    }
}
