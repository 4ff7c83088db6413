// CSVReport: the report as CSV — one row per cell, then one row per variant (column `kind`).
import CoordinatorKit
import Foundation

/// Renders a `SweepReport` as one CSV table (RFC 4180 quoting): `kind` = `cell` rows (each a run's best epoch,
/// its last epoch apart) then `variant` rows (means and the comparison). Metrics are fractions, Δ and CI bounds
/// percentage points; empty fields where a value does not apply. Columns are listed in docs/report-format.md.
public enum CSVReport {
    /// The columns that name the sweep's metric and hold its values, appended when it is not the default one
    /// (`val_macro_f1`, higher is better, pp): `metric_value` is a cell's best-epoch value and a variant's mean over
    /// seeds, in the metric's own units; `delta_pp` and the interval columns then hold Δ in `metric_unit`.
    public static let metricColumns = ["metric", "metric_goal", "metric_unit", "metric_value", "metric_sd"]

    /// The column names for a report with these class names (and the metric columns unless `metric` is the default).
    public static func columns(classNames: [String], metric: SweepMetric = SweepMetric()) -> [String] {
        plainColumns(classNames: classNames) + (metric.isDefault ? [] : metricColumns)
    }

    private static func plainColumns(classNames: [String]) -> [String] {
        [
            "kind", "variant", "seed", "seeds", "best_epoch", "epochs_run", "early_stopped", "val_macro_f1",
            "val_macro_f1_sd",
            "val_macro_precision", "val_macro_recall", "val_accuracy", "val_ece",
        ]
            + classNames.map { "f1_\($0)" }
            + [
                "last_epoch", "last_val_macro_f1", "delta_pp", "per_seed_delta_pp", "ci_low_pp", "ci_high_pp",
                "seed_sd_pp", "row_se_pp", "se_pp",
                "df", "p_value", "p_holm", "row_ci_low_pp", "row_ci_high_pp", "row_p_value", "p_seed_beats_baseline",
                "verdict", "seed_rule",
                "seeds_to_decide", "seeds_needed", "trainable_params", "trainable_share", "wall_seconds",
                "worker_hours", "config_sha256", "dataset_sha256",
                "stage1_sha256", "code_version", "host", "blas_core", "blas_threads",
            ]
            + classNames.map { "delta_pp_\($0)" }
    }

    /// The CSV text, header first, lines ending in `\n`.
    public static func render(_ report: SweepReport) -> String {
        let classes = report.classNames
        let metric = report.significance.metric
        let header = columns(classNames: classes, metric: metric)
        let named = ["metric": metric.name, "metric_goal": metric.goal.rawValue, "metric_unit": metric.unit]
        var lines = [header.map(quote).joined(separator: ",")]
        for cell in report.cells {
            var row = cellRow(cell, classes: classes).merging(named) { old, _ in old }
            row["metric_value"] = num(cell.metric)
            lines.append(header.map { quote(row[$0] ?? "") }.joined(separator: ","))
        }
        for variant in report.variants {
            var row = variantRow(variant, classes: classes).merging(named) { old, _ in old }
            row["metric_value"] = num(variant.metric.map { $0.mean / metric.scale })
            row["metric_sd"] = num(variant.metric?.sd.map { $0 / metric.scale })
            lines.append(header.map { quote(row[$0] ?? "") }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func cellRow(_ cell: CellReport, classes: [String]) -> [String: String] {
        let b = cell.best
        let p = cell.provenance
        var row: [String: String] = [
            "kind": "cell", "variant": cell.variant, "seed": String(cell.seed), "seeds": "1",
            "best_epoch": String(cell.bestEpoch),
            "epochs_run": String(cell.epochsRun), "early_stopped": cell.earlyStopped ? "true" : "false",
        ]
        row["val_macro_f1"] = num(b.macroF1)
        row["val_macro_precision"] = num(b.macroPrecision)
        row["val_macro_recall"] = num(b.macroRecall)
        row["val_accuracy"] = num(b.accuracy)
        row["val_ece"] = num(b.ece)
        for (index, name) in classes.enumerated() { row["f1_\(name)"] = num(b.f1[safe: index]) }
        row["last_epoch"] = cell.last.map { String($0.epoch) } ?? ""
        row["last_val_macro_f1"] = num(cell.last?.macroF1)
        row["trainable_params"] = cell.trainableParameters.map(String.init) ?? ""
        row["trainable_share"] = num(cell.trainableShare)
        row["wall_seconds"] = num(cell.wallSeconds)
        row["worker_hours"] = num(cell.workerHours)
        row["config_sha256"] = p.configSHA256
        row["dataset_sha256"] = p.datasetSHA256 ?? ""
        row["stage1_sha256"] = p.stage1SHA256 ?? ""
        row["code_version"] = p.codeVersion ?? ""
        row["host"] = p.host ?? ""
        row["blas_core"] = p.blasCore ?? ""
        row["blas_threads"] = p.blasThreads.map(String.init) ?? ""
        return row
    }

    private static func variantRow(_ variant: VariantReport, classes: [String]) -> [String: String] {
        var row: [String: String] = ["kind": "variant", "variant": variant.name, "seeds": String(variant.seeds.count)]
        row["seed"] = variant.seeds.map(String.init).joined(separator: " ")
        row["best_epoch"] = num(variant.bestEpoch?.mean)
        row["epochs_run"] = num(variant.epochsRun?.mean)
        row["val_macro_f1"] = num(variant.macroF1.map { $0.mean / 100 })
        row["val_macro_f1_sd"] = num(variant.macroF1?.sd.map { $0 / 100 })
        row["val_macro_precision"] = num(variant.macroPrecision.map { $0.mean / 100 })
        row["val_macro_recall"] = num(variant.macroRecall.map { $0.mean / 100 })
        row["val_accuracy"] = num(variant.accuracy.map { $0.mean / 100 })
        row["val_ece"] = num(variant.ece?.mean)
        for (index, name) in classes.enumerated() where variant.perClassF1.indices.contains(index) {
            row["f1_\(name)"] = num(variant.perClassF1[index].mean / 100)
        }
        row["trainable_share"] = num(variant.trainableShare)
        row["worker_hours"] = num(variant.workerHours)
        row["verdict"] = variant.isBaseline ? "baseline" : Verdict.untested.rawValue
        guard let c = variant.comparison else { return row }
        row["delta_pp"] = num(c.deltaPP)
        row["ci_low_pp"] = num(c.interval?.lowPP)
        row["ci_high_pp"] = num(c.interval?.highPP)
        row["per_seed_delta_pp"] = c.interval.map { $0.perSeedDeltaPP.map { "\($0)" }.joined(separator: " ") } ?? ""
        row["seed_sd_pp"] = num(c.interval?.seedSDPP)
        row["row_se_pp"] = num(c.rowInterval?.sdPP)
        row["se_pp"] = num(c.interval?.standardErrorPP)
        row["df"] = num(c.interval?.df)
        row["p_value"] = num(c.pValue)
        row["p_holm"] = num(c.pHolm)
        row["row_ci_low_pp"] = num(c.rowInterval?.lowPP)
        row["row_ci_high_pp"] = num(c.rowInterval?.highPP)
        row["row_p_value"] = num(c.rowPValue)
        row["p_seed_beats_baseline"] = num(c.probabilityOfImprovement)
        row["verdict"] = c.verdict.rawValue
        row["seed_rule"] = c.seedRule.rawValue
        row["seeds_to_decide"] = c.seedsToDecide.map(String.init) ?? ""
        row["seeds_needed"] = c.seedsNeeded.map(String.init) ?? ""
        for (index, name) in classes.enumerated() { row["delta_pp_\(name)"] = num(c.perClassDeltaPP[safe: index]) }
        return row
    }

    private static func num(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        return "\(value)"
    }

    private static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
