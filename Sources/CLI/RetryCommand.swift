// RetryCommand: `ablate retry`, failed cells of a stopped sweep back to pending with a fresh attempt budget.
import ArgumentParser
import CoordinatorKit
import Foundation

/// Puts failed cells of a state directory back to pending (`Ledger.retry`): after the cause is fixed, running the
/// same `ablate local` or `ablate coordinator` command again runs them, resuming from their last checkpoint. The
/// coordinator must not be running (the state directory's lock is taken); the earlier attempts stay in the ledger.
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put failed cells back to pending with a fresh attempt budget (the coordinator must be stopped).",
        discussion:
            "Give --failed (every failed cell of the sweep, or of --variant) or --cell ID (a cell id or a unique prefix of at least 6 hex digits; repeatable). Cells that failed because their stage-1 job did are retried with it. Then run the sweep's command again."
    )

    @Option(help: "State directory of a stopped coordinator.") var state: String
    @Flag(help: "Retry every failed cell of the sweep's plan.") var failed = false
    @Option(name: .customLong("cell"), help: ArgumentHelp("A failed cell's id or unique id prefix.", valueName: "id"))
    var cells: [String] = []
    @Option(help: "With --failed: only this variant's failed cells.") var variant: String?
    @Flag(help: "Print the retried cells as JSON.") var json = false

    func validate() throws {
        if failed == !cells.isEmpty {
            throw ValidationError(failed ? "give --failed or --cell, not both" : "give --failed or --cell ID")
        }
        if variant != nil, !failed { throw ValidationError("--variant goes with --failed") }
        for cell in cells where cell.count < 6 || !cell.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            throw ValidationError("--cell \(cell): not a cell id (at least 6 lowercase hex digits)")
        }
    }

    func run() throws {
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
