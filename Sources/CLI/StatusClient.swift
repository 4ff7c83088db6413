// StatusClient: one STATUS_REQUEST to a coordinator over a short-lived DEALER, for `ablate status --connect`.
import CoordinatorKit
import Foundation
import WireProtocol

/// One STATUS_REQUEST over a short-lived DEALER.
enum StatusClient {
    static func request(_ endpoint: String, sweep: String? = nil, timeoutMs: Int, curve: CurveClientKeys? = nil)
        throws -> StatusReply
    {
        let reply = try CoordinatorExchange.ask(
            .statusRequest(StatusRequest(sweep: sweep)), endpoint: endpoint, timeoutMs: timeoutMs, curve: curve
        ) { message -> StatusReply? in
            if case .statusReply(let reply) = message { return reply }
            return nil
        }
        if let reply { return reply }
        let hint =
            curve == nil
            ? "is a coordinator serving there, without CURVE?"
            : "is a coordinator serving there, and is this key's public half in its authorized keys (an unlisted key gets no answer)?"
        throw RunFailure(message: "\(endpoint): no answer from a coordinator within \(timeoutMs / 1000) s; \(hint)")
    }
}
