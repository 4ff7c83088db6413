// RetryCommand: `ablate retry`, failed cells back to pending with a fresh attempt budget (stopped or running sweep).
import ArgumentParser
import CoordinatorKit
import Foundation

/// Puts failed cells back to pending (`RetryRule`). Offline (`--state DIR`): in the ledger of a stopped coordinator
/// (the state directory's lock is taken); running the same `ablate local` or `ablate coordinator` command again runs
/// them, resuming from their last checkpoint. Online (`NAME --connect EP`): the running coordinator serving sweep
/// NAME applies the same rules and assigns them at once. The earlier attempts stay in the ledger either way.
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put failed cells back to pending with a fresh attempt budget (--state DIR, or NAME --connect EP).",
        discussion:
            "Give --failed (every failed cell of the sweep, or of --variant) or --cell ID (a cell id or a unique prefix of at least 6 hex digits; repeatable). Cells that failed because their stage-1 job did are retried with it. With --state (a stopped coordinator's directory), run the sweep's command again afterwards; with NAME --connect EP, the running coordinator runs them at once."
    )

    @Argument(help: "With --connect: the sweep's name.") var name: String?
    @Option(help: "State directory of a stopped coordinator.") var state: String?
    @Option(name: [.short, .long], help: "Endpoint of a running coordinator (with NAME).") var connect: String?
    @Option(help: "With --connect: seconds to wait for the coordinator's answer.") var timeout = 5.0
    @OptionGroup var curve: CurveClientOptions
    @Flag(help: "Retry every failed cell of the sweep's plan.") var failed = false
    @Option(name: .customLong("cell"), help: ArgumentHelp("A failed cell's id or unique id prefix.", valueName: "id"))
    var cells: [String] = []
    @Option(help: "With --failed: only this variant's failed cells.") var variant: String?
    @Flag(help: "Print the retried cells as JSON.") var json = false

    func validate() throws {
        guard (state == nil) != (connect == nil) else {
            throw ValidationError("give exactly one of --state DIR and NAME --connect ENDPOINT")
        }
        if connect != nil, name == nil { throw ValidationError("--connect needs the sweep's NAME") }
        if state != nil, name != nil { throw ValidationError("NAME goes with --connect; --state names the sweep") }
        if let connect { try EndpointSyntax.check(connect, option: "--connect", bind: false) }
        if failed == !cells.isEmpty {
            throw ValidationError(failed ? "give --failed or --cell, not both" : "give --failed or --cell ID")
        }
        if variant != nil, !failed { throw ValidationError("--variant goes with --failed") }
        for cell in cells where cell.count < 6 || !cell.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            throw ValidationError("--cell \(cell): not a cell id (at least 6 lowercase hex digits)")
        }
    }

    func run() throws {
        if let connect, let name {
            let control = try ControlOptions.parse(
                ["--connect", connect, "--timeout", "\(timeout)"] + (json ? ["--json"] : []))
            var options = control
            options.curve = curve
            return try options.run(
                .retry, sweep: name, variant: variant, cells: cells.isEmpty ? nil : cells, failed: failed ? true : nil
            ) { result in
                (result.cells ?? []).map { "retry: \($0.variant) seed \($0.seed) (\($0.id.prefix(12)))" } + [
                    result.message
                ]
            }
        }
        guard let state else { throw RunFailure(message: "give --state DIR or NAME --connect ENDPOINT") }
        let lock = try StoppedStateDirectory.lock(state)
        defer { withExtendedLifetime(lock) {} }
        let retried: [CellRecord]
        do {
            let ledger = try Ledger(directory: state)
            defer { try? ledger.close() }
            let ids = try chosen(ledger)
            retried = try ledger.retry(ids, at: Date().timeIntervalSince1970)
        } catch let failure as RunFailure {
            throw failure
        } catch {
            throw RunFailure(message: "\(error)")
        }
        if json {
            let rows = retried.map { ["id": $0.id, "variant": $0.variant, "seed": String($0.seed)] }
            let data = try JSONSerialization.data(withJSONObject: ["retried": rows], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for cell in retried { print("retry: \(cell.variant) seed \(cell.seed) (\(cell.id.prefix(12)))") }
        print(
            "\(retried.count) cell\(retried.count == 1 ? "" : "s") pending again; run the sweep's command again to run them"
        )
    }

    /// The ids to retry (`RetryRule.select`): the failed planned cells (of `variant`), or each `--cell` resolved to
    /// one cell.
    private func chosen(_ ledger: Ledger) throws -> [String] {
        do {
            return try RetryRule.select(
                failed: failed, variant: variant, prefixes: cells, planned: try ledger.plannedCells(),
                all: failed ? [] : try ledger.cells())
        } catch let refusal as RetryRule.Refusal {
            throw RunFailure(message: refusal.message)
        }
    }
}
