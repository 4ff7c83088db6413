// SweepsCommand: `ablate sweeps`, the sweeps a running coordinator serves with their progress.
import ArgumentParser
import Foundation
import WireProtocol

/// Lists the sweeps a coordinator serves: cells done, running, pending, failed and cancelled, the ETA, and the
/// cancelled variants.
struct SweepsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweeps", abstract: "List the sweeps a running coordinator serves, with their progress.")

    @Argument(help: "Only this sweep (default: every sweep served).") var name: String?
    @OptionGroup var control: ControlOptions

    func run() throws {
        try control.run(.sweeps, sweep: name ?? "") { result in
            let sweeps = result.sweeps ?? []
            return ["SWEEP  CELLS  DONE  RUNNING  PENDING  FAILED  CANCELLED  ETA  CANCELLED VARIANTS  VERDICTS"]
                + sweeps.map(Self.line)
        }
    }

    /// One sweep's row.
    static func line(_ sweep: SweepSummary) -> String {
        let eta = sweep.etaSeconds.map { StatusFormat.duration($0) } ?? "—"
        let variants = sweep.cancelledVariants.isEmpty ? "-" : sweep.cancelledVariants.joined(separator: ",")
        let verdicts =
            (sweep.verdicts ?? [:]).isEmpty
            ? "-"
            : (sweep.verdicts ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return
            "\(sweep.name)  \(sweep.cells)  \(sweep.done)  \(sweep.running)  \(sweep.pending)  \(sweep.failed)  \(sweep.cancelled)  \(eta)  \(variants)  \(verdicts)"
    }
}

/// Durations for the sweeps listing.
enum StatusFormat {
    /// `45 s`, `12 min`, `3.4 h`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 90 { return "\(Int(seconds.rounded())) s" }
        if seconds < 5400 { return "\(Int((seconds / 60).rounded())) min" }
        return String(format: "%.1f h", seconds / 3600)
    }
}
