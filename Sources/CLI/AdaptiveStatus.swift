// AdaptiveStatus: `ablate status --state` lines of an adaptive sweep — each variant's verdict and seeds, from the state directory.
import CoordinatorKit
import Foundation

/// Computes each variant's line (`poly: undecided, collecting seed 5 of at most 10`) the way the coordinator decides
/// (`AdaptiveSeeds`): from the ledger's planned cells and the verdicts of the state directory's `report.json`.
enum AdaptiveStatus {
    /// The lines for the sweep recorded in `ledger`; empty for a list of seeds or a sweep that does not parse.
    static func lines(ledger: Ledger, cells: [CellRecord], stateDirectory: String) throws -> [String] {
        guard let text = try ledger.sweepText(),
            let sweep = try? Sweep.parse(text: text, sourceName: "recorded sweep", workingDirectory: stateDirectory),
            let design = AdaptiveSeeds(sweep: sweep)
        else { return [] }
        let decision = design.decide(
            cells: AdaptiveSeeds.progress(of: cells, sweep: sweep),
            judgements: judgements(reportPath: "\(stateDirectory)/report.json"))
        return ["adaptive seeds (\(design.initialCount) initial, at most \(design.maximum) per variant):"]
            + decision.reasons.map { "  \($0.variant): \($0.reason)" }
    }

    /// Each variant's verdict and paired seeds in `report.json` (docs/report-format.md); empty when it is missing or
    /// unreadable.
    static func judgements(reportPath: String) -> [String: AdaptiveJudgement] {
        guard let data = FileManager.default.contents(atPath: reportPath),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let variants = root["variants"] as? [[String: Any]]
        else { return [:] }
        var out: [String: AdaptiveJudgement] = [:]
        for variant in variants {
            guard let name = variant["name"] as? String, let text = variant["verdict"] as? String,
                let verdict = AdaptiveVerdict(rawValue: text), let paired = variant["paired_seeds"] as? [Any]
            else { continue }
            out[name] = AdaptiveJudgement(verdict: verdict, pairedSeeds: paired.count)
        }
        return out
    }
}
