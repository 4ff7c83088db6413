// ControlClient: one CONTROL to a running coordinator over a short-lived DEALER, and its CONTROL_REPLY.
import ArgumentParser
import CoordinatorKit
import Foundation
import WireProtocol

/// Sends one CONTROL and waits for the CONTROL_REPLY with the same `request_id` (for `ablate sweeps`, `cancel`,
/// `resume`, `retry --connect` and `extend`).
enum ControlClient {
    /// The reply's result; a refusal (`ok` false) or no answer within `timeoutMs` is a `RunFailure` of one line.
    static func request(_ request: ControlRequest, endpoint: String, timeoutMs: Int, curve: CurveClientKeys?) throws
        -> ControlResult
    {
        let result = try CoordinatorExchange.ask(
            .control(request), endpoint: endpoint, timeoutMs: timeoutMs, curve: curve
        ) { message -> ControlResult? in
            guard case .controlReply(let reply) = message, reply.requestId == request.requestId else { return nil }
            guard reply.ok, let result = reply.result else {
                throw RunFailure(message: PrintableText.oneLine(reply.error ?? "refused without a reason"))
            }
            return result
        }
        if let result { return result }
        let hint =
            curve == nil
            ? "is a coordinator serving there, without CURVE?"
            : "is a coordinator serving there, and is this key's public half in its authorized keys (clients/)?"
        throw RunFailure(
            message: "\(endpoint): no answer from a coordinator within \(max(1, timeoutMs / 1000)) s; \(hint)")
    }

    /// A fresh request id: 16 hex digits.
    static func newRequestID() -> String {
        (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// `result` as one JSON object (snake_case keys, sorted), for `--json`.
    static func json(_ result: ControlResult) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(result), as: UTF8.self)
    }
}

/// `--connect EP`, the client's CURVE keys, `--timeout` and `--json`, shared by the commands that act on a running
/// coordinator's sweep.
struct ControlOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Endpoint of a running coordinator.") var connect: String
    @Option(help: "Seconds to wait for the coordinator's answer.") var timeout = 5.0
    @Flag(help: "Print the coordinator's result as one JSON object.") var json = false
    @OptionGroup var curve: CurveClientOptions

    func validate() throws {
        try EndpointSyntax.check(connect, option: "--connect", bind: false)
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] seconds") }
    }

    /// Sends `action` on sweep `sweep` and prints the result: its JSON with `--json`, else `lines(result)`.
    func run(
        _ action: ControlAction, sweep: String, variant: String? = nil, cells: [String]? = nil, failed: Bool? = nil,
        seeds: [UInt64]? = nil, lines: (ControlResult) -> [String] = { [$0.message] }
    ) throws {
        let request = ControlRequest(
            requestId: ControlClient.newRequestID(), sweep: sweep, action: action, variant: variant, cells: cells,
            failed: failed, seeds: seeds)
        let result = try ControlClient.request(
            request, endpoint: connect, timeoutMs: Int(timeout * 1000), curve: try curve.keys())
        if json {
            print(try ControlClient.json(result))
        } else {
            for line in lines(result) { print(line) }
        }
    }
}
