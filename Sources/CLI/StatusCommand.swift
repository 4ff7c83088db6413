// StatusCommand: `ablate status`, one row per cell from the ledger or from a running coordinator.
import ArgumentParser
import CoordinatorKit
import Foundation
import WireProtocol

/// Shows the cells of a sweep: state, worker, attempt, epoch/total, best validation macro-F1 so far, ETA.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each cell's state from a state directory (--state) or a running coordinator (--connect).")

    @Option(help: "State directory of a coordinator (read-only; works while it runs).") var state: String?
    @Option(name: [.short, .long], help: "Endpoint of a running coordinator (adds ETAs).") var connect: String?
    @Flag(help: "Refresh every second until interrupted.") var watch = false
    @OptionGroup var curve: CurveClientOptions

    func validate() throws {
        guard (state == nil) != (connect == nil) else {
            throw ValidationError("give exactly one of --state DIR and --connect ENDPOINT")
        }
        if let connect { try EndpointSyntax.check(connect, option: "--connect", bind: false) }
    }

    func run() throws {
        let stop = StopSignal()
        let interactive = isatty(STDOUT_FILENO) == 1
        repeat {
            let table = try fetch()
            if watch && interactive { FileHandle.standardOutput.write(Data("\u{1B}[H\u{1B}[2J".utf8)) }
            emit(table)
            if watch { Thread.sleep(forTimeInterval: 1) }
        } while watch && !stop.isRaised
    }

    private func fetch() throws -> String {
        if let state {
            let ledger = try Ledger(readingDirectory: state)
            let name = try ledger.sweepName() ?? "?"
            let cells = try ledger.plannedCells()
            let adaptive = try AdaptiveStatus.lines(ledger: ledger, cells: cells, stateDirectory: state)
            return "sweep \(name)\n"
                + StatusTable.text(StatusTable.rows(cells), reasons: StatusTable.failureReasons(cells))
                + adaptive.map { "\n" + $0 }.joined()
        }
        guard let connect else { return "" }
        let reply = try StatusClient.request(connect, timeoutMs: 3000, curve: try curve.keys())
        return "sweep \(reply.sweep)\n" + (reply.paused.map { "\($0)\n" } ?? "")
            + StatusTable.text(reply.rows, reasons: StatusTable.failureReasons(reply.rows))
    }
}

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
