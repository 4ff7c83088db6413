// AdaptiveVerdicts: the report's verdicts as the plain values an adaptive sweep's coordinator decides on.
import CoordinatorKit
import ReportKit

/// The glue between the report (ReportKit) and the adaptive-seed planner (CoordinatorKit, which cannot see the report).
enum AdaptiveVerdicts {
    /// Each variant's verdict and paired seeds from `report` (a variant without a comparison: `not tested` at 0).
    static func judgements(_ report: SweepReport) -> [String: AdaptiveJudgement] {
        var out: [String: AdaptiveJudgement] = [:]
        for variant in report.variants where !variant.isBaseline {
            let comparison = variant.comparison
            let verdict = comparison.flatMap { AdaptiveVerdict(rawValue: $0.verdict.rawValue) } ?? .untested
            out[variant.name] = AdaptiveJudgement(verdict: verdict, pairedSeeds: comparison?.pairedSeeds.count ?? 0)
        }
        return out
    }

    /// A report refresher's callback that leaves each rebuild's verdicts (or its failure) in `mailbox`.
    static func poster(_ mailbox: AdaptiveMailbox) -> @Sendable (Result<SweepReport, any Error>, Int) -> Void {
        { result, basis in
            switch result {
            case .success(let report): mailbox.post(AdaptiveReportBatch(judgements: judgements(report), basis: basis))
            case .failure(let error):
                mailbox.post(AdaptiveReportBatch(judgements: [:], problem: "\(error)", basis: basis))
            }
        }
    }
}
