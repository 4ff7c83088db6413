// MarkdownReport: the report as Markdown — the research comparison's three tables, significance, cells, warnings.
import Foundation

/// Renders a `SweepReport` as Markdown tables ready to paste into a thesis.
public enum MarkdownReport {
    /// The whole report: overall, per-class and training tables, the significance table, the cells, the warnings.
    public static func render(_ report: SweepReport) -> String {
        let f = ReportFormatting.self
        let m = report.significance.metric
        let digits = m.scale == 100 ? 2 : 4
        var out = "# Sweep \(report.sweep)\n\n"
        if m.isDefault {
            out +=
                "Baseline `\(report.baseline)`; every number of a row is from the best epoch (highest validation macro-F1) of each run; "
            out += "mean ± sd over seeds, in %.\n\n"
        } else {
            out +=
                "Baseline `\(report.baseline)`; every number of a row is from the best epoch (\(m.goal == .max ? "highest" : "lowest") \(m.name)) of each run; "
            out += "mean ± sd over seeds, \(m.name) in \(m.unit) (\(m.goalText)), the other metrics in %.\n\n"
        }
        out += "## Overall (validation, best epoch)\n\n"
        let judged = m.isDefault ? [] : [m.name]
        let deltaLabel = m.isDefault ? "Δ (pp)" : "Δ \(m.name) (\(m.unit))"
        out += row(
            ["Variant", "Seeds"] + judged + (m.isDefault ? ["Val F1", deltaLabel] : [deltaLabel, "Val F1"])
                + ["Precision", "Recall", "Accuracy", "ECE"])
        out += rule(8 + judged.count)
        for variant in report.variants {
            let delta = variant.isBaseline ? "baseline" : f.signed(variant.comparison?.deltaPP, digits)
            let leading =
                m.isDefault
                ? [f.spread(variant.macroF1), delta]
                : [f.spread(variant.metric, digits), delta, f.spread(variant.macroF1)]
            out += row(
                [label(variant), seedsText(variant)] + leading + [
                    f.spread(variant.macroPrecision), f.spread(variant.macroRecall), f.spread(variant.accuracy),
                    f.spread(variant.ece, 4),
                ])
        }
        out += "\n## Per-class F1 (validation, best epoch)\n\n"
        out += row(["Variant"] + report.classNames + report.classNames.map { "Δ \($0) (pp)" })
        out += rule(1 + 2 * report.classNames.count)
        for variant in report.variants {
            let spreads = report.classNames.indices.map {
                f.spread(variant.perClassF1.indices.contains($0) ? variant.perClassF1[$0] : nil)
            }
            let deltas = report.classNames.indices.map { c in
                variant.isBaseline
                    ? "—"
                    : f.signed(
                        variant.comparison.flatMap {
                            $0.perClassDeltaPP.indices.contains(c) ? $0.perClassDeltaPP[c] : nil
                        })
            }
            out += row([variant.name] + spreads + deltas)
        }
        out += "\n## Training details\n\n"
        out += row([
            "Variant", "Best epoch", "Epochs run", "Early stopped", "Trainable %", "Wall time (s)", "Worker-hours",
        ])
        out += rule(7)
        for variant in report.variants {
            let cells = report.cells.filter { $0.variant == variant.name }
            let wall = Spread(cells.map(\.wallSeconds))
            out += row([
                variant.name, f.spread(variant.bestEpoch, 1), f.spread(variant.epochsRun, 1),
                "\(cells.filter(\.earlyStopped).count)/\(cells.count)",
                f.number(variant.trainableShare.map { 100 * $0 }),
                f.spread(wall, 1), f.number(variant.workerHours, 3),
            ])
        }
        out += "\n## Significance\n\n" + verdictTable(report)
        out += "\n## Cells (best epoch; last epoch apart)\n\n"
        out += row(
            ["Variant", "Seed", "Best epoch"] + judged + ["Val F1", "Precision", "Recall", "Accuracy", "ECE"]
                + report.classNames
                + ["Last epoch", "Last val F1", "Trainable %", "Wall (s)", "Worker-h"])
        out += rule(13 + judged.count + report.classNames.count)
        for cell in report.cells {
            let best = cell.best
            out += row(
                [cell.variant, "\(cell.seed)", "\(cell.bestEpoch)"]
                    + judged.map { _ in f.number(m.scale * cell.metric, digits) } + [
                        f.number(100 * best.macroF1),
                        f.number(100 * best.macroPrecision),
                        f.number(100 * best.macroRecall), f.number(100 * best.accuracy), f.number(best.ece, 4),
                    ]
                    + report.classNames.indices.map { f.number(100 * best.f1[safe: $0]) }
                    + [
                        cell.last.map { "\($0.epoch)" } ?? "—", f.number(cell.last.map { 100 * $0.macroF1 }),
                        f.number(cell.trainableShare.map { 100 * $0 }), f.number(cell.wallSeconds, 1),
                        f.number(cell.workerHours, 3),
                    ])
        }
        out += codeSection(report)
        out += "\n## Warnings\n\n"
        out += report.warnings.isEmpty ? "None.\n" : report.warnings.map { "- \($0)\n" }.joined()
        return out
    }

    /// The significance table alone (what `ablate local` prints at the end), one plain-language line per variant and
    /// the legend with the rule.
    public static func verdictTable(_ report: SweepReport) -> String {
        let f = ReportFormatting.self
        let s = report.significance
        let m = s.metric
        let unit = m.unit
        let digits = m.scale == 100 ? 2 : 4
        let t = f.threshold(s.threshold, scale: m.scale)
        var out = ""
        if !m.isDefault {
            out +=
                "Metric `\(m.name)`: \(m.goalText); Δ = variant − baseline in \(unit), threshold \(t) \(unit)"
                + (s.rowLevel ? "" : "; seed-level statistics only (no per-row form)") + ".\n\n"
        }
        out += row([
            "Variant", "Seeds", m.isDefault ? "Δ F1 (pp)" : "Δ \(m.name) (\(unit))", "Per-seed Δ (\(unit))",
            "\(f.level(s.alpha)) % CI (\(unit))", "Seed SD", "Row SE",
            "df", "p",
            "p-Holm", "P(seed beats)", "Verdict",
            m.goal == .max ? "Seed rule (Δ > \(t) \(unit))" : "Seed rule (Δ < −\(t) \(unit))", "Seeds to decide",
        ])
        out += rule(14)
        var sentences: [String] = []
        for variant in report.variants where !variant.isBaseline {
            guard let c = variant.comparison else {
                out += row([
                    label(variant), seedsText(variant), "—", "—", "—", "—", "—", "—", "—", "—", "—",
                    Verdict.untested.rawValue, "—", "—",
                ])
                continue
            }
            let rule = c.seedRule.rawValue + (c.seedRule.disagrees(with: c.verdict) ? " (differs)" : "")
            let perSeed = c.interval?.perSeedDeltaPP ?? (c.pairedSeeds.count == 1 ? [c.deltaPP] : [])
            out += row([
                label(variant), "\(c.pairedSeeds.count)", f.signed(c.deltaPP, digits),
                perSeed.isEmpty ? "—" : perSeed.map { f.signed($0, digits) }.joined(separator: " "),
                f.interval(c.interval, digits), f.number(c.interval?.seedSDPP, digits),
                c.rowsTested ? f.number(c.interval?.rowSEPP ?? c.rowInterval?.sdPP, digits) : "— (seeds only)",
                f.number(c.interval?.df, 1), f.pValue(c.pValue), f.pValue(c.pHolm),
                f.number(c.probabilityOfImprovement),
                "**\(c.verdict.rawValue)**", rule, c.seedsToDecide.map(String.init) ?? "—",
            ])
            sentences.append("- \(variant.name): \(c.sentence)\n")
        }
        let a = f.number(s.alpha, 3)
        out += "\n" + sentences.joined()
        out +=
            "\nΔ vs `\(report.baseline)` over the seeds both finished (paired by seed; per-seed Δ = variant − baseline). "
        out +=
            "CI and p account for both sources of randomness: SE² = seed SD²/n + row SE² (row SE: SD of a paired bootstrap over "
        out += "validation rows, \(s.resamples) resamples, seed \(s.seed)), Student-t with n − 1 df (n paired seeds); "
        out +=
            "p Holm-corrected over the \(report.variants.filter { $0.comparison?.pHolm != nil }.count) tested variant(s). "
        out +=
            "Verdict: **better**/**worse** when p-Holm ≤ \(a), the CI excludes 0 and |Δ| > \(t) \(unit) "
            + (m.goal == .max ? "(sign of Δ); " : "(lower is better: **better** when Δ < 0); ")
        out +=
            "**equivalent** when the \(f.level(2 * s.alpha)) % CI lies inside ±\(t) \(unit) (two one-sided tests at \(a)); "
        out +=
            "otherwise **undecided** (also with fewer than 2 paired seeds). P(seed beats): share of (variant seed, baseline seed) pairs "
        out +=
            (m.isDefault
                ? "where the variant's F1 is higher"
                : "where the variant's \(m.name) is \(m.goal == .max ? "higher" : "lower")")
            + " (ties ½). Seeds to decide: paired seeds per side at which the observed components "
        out +=
            "would decide. The row-level bootstrap CI and randomization p (each trained model fixed) are in report.json. "
        out +=
            "Row SE \"— (seeds only)\": a side has no usable predictions.h5 (e.g. command cells that write none), so the CI, p and "
        out += "verdict use the seed component alone (row SE 0, `rows_tested: false` in report.json).\n"
        if let design = s.design {
            let levels = design.levels
            out +=
                "\nAdaptive seeds (\(design.initialSeeds) to \(design.maximumSeeds) per side): each look is judged at its own level, "
            out +=
                "\(f.number(levels.first ?? s.alpha, 4)) before the last look and \(f.number(levels.last ?? s.alpha, 4)) at it (they sum to \(a)), "
            out += "in place of \(a) above, and the CIs are at those levels.\n"
        }
        return out
    }

    /// A variant's name, with its source when it is a replica.
    private static func label(_ variant: VariantReport) -> String {
        variant.replicaOf.map { "\(variant.name) (replica of \($0))" } ?? variant.name
    }

    private static func seedsText(_ variant: VariantReport) -> String {
        "\(variant.seeds.count)" + (variant.failedSeeds > 0 ? " (+\(variant.failedSeeds) failed)" : "")
    }

    static func row(_ cells: [String]) -> String {
        "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
    }

    static func rule(_ count: Int) -> String {
        "|" + String(repeating: "---|", count: count) + "\n"
    }
}
