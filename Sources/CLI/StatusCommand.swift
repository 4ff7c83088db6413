// StatusCommand: `ablate status`, one row per cell from the ledger or from a running coordinator.
import ArgumentParser
import CoordinatorKit
import Foundation
import WireProtocol

/// Shows the cells of a sweep: state, worker, attempt, epoch/total, pace, loss, validation macro-F1, ETA.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each cell's state from a state directory (--state) or a running coordinator (--connect).")

    @Argument(help: "The sweep, when the coordinator (or --state) is a lab serving several.") var name: String?
    @Option(help: "State directory of a coordinator (read-only; works while it runs).") var state: String?
    @Option(name: [.short, .long], help: "Endpoint of a running coordinator.") var connect: String?
    @Flag(help: "Refresh every second until interrupted (rides out a coordinator restart).") var watch = false
    @Flag(help: "Print one JSON object (docs/state-directory.md#status-json) instead of the table.") var json = false
    @OptionGroup var curve: CurveClientOptions

    func validate() throws {
        guard (state == nil) != (connect == nil) else {
            throw ValidationError("give exactly one of --state DIR and --connect ENDPOINT")
        }
        if let connect { try EndpointSyntax.check(connect, option: "--connect", bind: false) }
        if let name, let problem = PeerNames.nameProblem(name) { throw ValidationError("sweep name \(problem)") }
    }

    func run() throws {
        let stop = StopSignal()
        let interactive = isatty(STDOUT_FILENO) == 1
        var lastReply: (reply: StatusReply, notes: [String])?
        var silentSince: Date?
        repeat {
            var text: String
            do {
                let fetched = try fetch()
                lastReply = fetched
                silentSince = nil
                text = try render(fetched.reply, notes: fetched.notes)
            } catch  where watch && connect != nil {
                // A coordinator that restarts answers again within seconds: keep the last table and keep asking.
                let since = silentSince ?? Date()
                silentSince = since
                let note =
                    "no answer since \(ISO8601DateFormatter().string(from: since)) (retrying): \(error)"
                text = try lastReply.map { try render($0.reply, notes: $0.notes) + "\n" + note } ?? note
            }
            if watch && interactive { FileHandle.standardOutput.write(Data("\u{1B}[H\u{1B}[2J".utf8)) }
            emit(text)
            if watch { Thread.sleep(forTimeInterval: 1) }
        } while watch && !stop.isRaised
    }

    private func render(_ reply: StatusReply, notes: [String]) throws -> String {
        if let names = reply.sweeps {
            // A lab that serves no sweep of this name (or several, and none was named).
            let served = names.isEmpty ? "none" : names.joined(separator: ", ")
            if let name { throw RunFailure(message: "no sweep named '\(name)' (this coordinator serves: \(served))") }
            return
                "this coordinator serves \(names.count) sweeps: \(served); name one (`ablate status NAME --connect …`) or list them with `ablate sweeps --connect …`"
        }
        if json { return try StatusJSON.text(reply, notes: notes) }
        return "sweep \(reply.sweep)\n" + (reply.paused.map { "\($0)\n" } ?? "")
            + StatusTable.text(reply.rows, reasons: StatusTable.failureReasons(reply.rows), summary: reply.summary)
            + notes.map { "\n" + $0 }.joined() + StatusTable.workerLines(reply.workers ?? []).map { "\n" + $0 }.joined()
    }

    /// The reply, and the lines under the table (the adaptive design's reasons, read from a state directory).
    private func fetch() throws -> (reply: StatusReply, notes: [String]) {
        if let given = state {
            let chosen = try StateLayout.sweepState(given, name: name)
            guard let state = chosen.directory else {
                return (StatusReply(sweep: name ?? "", rows: [], sweeps: chosen.names), [])
            }
            let ledger = try Ledger(readingDirectory: state)
            let reply = try LedgerStatus.reply(ledger, now: Date().timeIntervalSince1970)
            let cells = try ledger.plannedCells()
            return (reply, try AdaptiveStatus.lines(ledger: ledger, cells: cells, stateDirectory: state))
        }
        guard let connect else { throw RunFailure(message: "give --state or --connect") }
        return (try StatusClient.request(connect, sweep: name, timeoutMs: 3000, curve: try curve.keys()), [])
    }
}
