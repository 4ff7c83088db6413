// TidyExports: the report as three tidy CSV tables — cells.csv, variants.csv, epochs.csv (docs/report-format.md).
import AblateSupport
import CoordinatorKit
import Foundation

/// The tidy exports of a report, one observation per row and one type per column, for pandas, R or a spreadsheet:
/// - `cells.csv`: one row per finished cell — its best epoch's metrics, facts, provenance, and one column per
///   resolved setting (`setting_<name>`) and per param (`param_<name>`);
/// - `variants.csv`: one row per variant — means and standard deviations over seeds, the comparison with the
///   baseline, and each setting its cells share;
/// - `epochs.csv`: long format, one row per cell × epoch with every number the epoch recorded (`EpochPoint`).
///
/// Units are consistent: metrics are fractions as recorded (`val_macro_f1` 0.8125), seconds are seconds; only the
/// differences are in the metric's difference unit, and their columns say so: `delta_pp`, `ci_low_pp`, … when the
/// sweep's metric is in percentage points (the default), `delta`, `ci_low`, … (unit in `metric_unit`) otherwise.
/// Per-class differences of F1 are always points (`delta_pp_<class>`).
public enum TidyExports {
    /// The file names, each with its table.
    public static let files: [(name: String, table: @Sendable (SweepReport) -> TidyTable)] = [
        ("cells.csv", cells), ("variants.csv", variants), ("epochs.csv", epochs),
    ]

    /// Writes the three tables into `directory` (which must exist), each file replaced atomically.
    public static func write(_ report: SweepReport, directory: String) throws {
        for (name, table) in files {
            try AtomicFile.write(Array(table(report).csv.utf8), to: "\(directory)/\(name)", overwrite: .replace)
        }
    }

    /// The columns of cells.csv that every report has, before the per-class, setting and param columns.
    public static let cellColumns: [TidyColumn] = [
        .init("variant", .text), .init("seed", .integer), .init("cell_id", .text), .init("status", .text),
        .init("metric", .text), .init("metric_goal", .text), .init("metric_unit", .text),
        .init("metric_value", .float), .init("best_epoch", .integer), .init("epochs_run", .integer),
        .init("epochs_planned", .integer), .init("early_stopped", .boolean), .init("attempts", .integer),
        .init("val_macro_f1", .float), .init("val_macro_precision", .float), .init("val_macro_recall", .float),
        .init("val_accuracy", .float), .init("val_ece", .float), .init("val_loss", .float),
        .init("last_epoch", .integer), .init("last_val_macro_f1", .float), .init("wall_seconds", .float),
        .init("worker_hours", .float), .init("total_params", .integer), .init("trainable_params", .integer),
        .init("trainable_share", .float), .init("config_sha256", .text), .init("dataset_sha256", .text),
        .init("stage1_sha256", .text), .init("code_sha256", .text), .init("code_commit", .text),
        .init("code_dirty", .boolean), .init("code_version", .text), .init("worker", .text), .init("host", .text),
        .init("blas_core", .text), .init("blas_threads", .integer),
    ]

    /// cells.csv.
    public static func cells(_ report: SweepReport) -> TidyTable {
        let metric = report.significance.metric
        let settings = ObjectColumns(report.cells.map { TidyObjectColumns.values($0.configJSON) }, prefix: "setting_")
        let params = ObjectColumns(report.cells.map { TidyObjectColumns.values($0.params) }, prefix: "param_")
        var table = TidyTable(
            columns: cellColumns + report.classNames.map { TidyColumn("f1_\($0)", .float) } + settings.columns
                + params.columns)
        for (index, cell) in report.cells.enumerated() {
            let best = cell.best
            let provenance = cell.provenance
            var row: [String: TidyValue] = [
                "variant": .text(cell.variant), "seed": .unsigned(cell.seed),
                "cell_id": .text(cell.cellID),
                "status": .text(cell.status), "metric": .text(metric.name), "metric_goal": .text(metric.goal.rawValue),
                "metric_unit": .text(metric.unit), "metric_value": .number(cell.metric),
                "best_epoch": .integer(cell.bestEpoch), "epochs_run": .integer(cell.epochsRun),
                "epochs_planned": .integer(cell.epochsPlanned), "early_stopped": .boolean(cell.earlyStopped),
                "attempts": .integer(cell.attempts), "val_macro_f1": .number(best.macroF1),
                "val_macro_precision": .number(best.macroPrecision), "val_macro_recall": .number(best.macroRecall),
                "val_accuracy": .number(best.accuracy), "val_ece": .number(best.ece), "val_loss": .number(best.loss),
                "last_epoch": .count(cell.last?.epoch), "last_val_macro_f1": .number(cell.last?.macroF1),
                "wall_seconds": .number(cell.wallSeconds), "worker_hours": .number(cell.workerHours),
                "total_params": .count(cell.totalParameters), "trainable_params": .count(cell.trainableParameters),
                "trainable_share": .number(cell.trainableShare), "config_sha256": .text(provenance.configSHA256),
                "dataset_sha256": .string(provenance.datasetSHA256), "stage1_sha256": .string(provenance.stage1SHA256),
                "code_sha256": .string(provenance.code?.sha256), "code_commit": .string(provenance.code?.commit),
                "code_dirty": provenance.code?.dirty.map(TidyValue.boolean) ?? .missing,
                "code_version": .string(provenance.codeVersion), "worker": .string(provenance.worker),
                "host": .string(provenance.host), "blas_core": .string(provenance.blasCore),
                "blas_threads": .count(provenance.blasThreads),
            ]
            for (classIndex, name) in report.classNames.enumerated() {
                row["f1_\(name)"] = .number(best.f1[safe: classIndex])
            }
            row.merge(settings.row(index)) { old, _ in old }
            row.merge(params.row(index)) { old, _ in old }
            table.rows.append(row)
        }
        return table
    }

    /// The difference columns' suffix: `_pp` for a metric in percentage points, none otherwise.
    static func deltaSuffix(_ metric: SweepMetric) -> String { metric.unit == "pp" ? "_pp" : "" }

    /// The columns of variants.csv that every report has, before the per-class and setting columns.
    public static func variantColumns(_ metric: SweepMetric) -> [TidyColumn] {
        let s = deltaSuffix(metric)
        return [
            .init("variant", .text), .init("is_baseline", .boolean), .init("replica_of", .text),
            .init("seeds", .integer), .init("failed_seeds", .integer), .init("seed_list", .text),
            .init("metric", .text), .init("metric_goal", .text), .init("metric_unit", .text),
            .init("metric_mean", .float), .init("metric_sd", .float), .init("val_macro_f1_mean", .float),
            .init("val_macro_f1_sd", .float), .init("val_macro_precision_mean", .float),
            .init("val_macro_recall_mean", .float), .init("val_accuracy_mean", .float), .init("val_ece_mean", .float),
            .init("best_epoch_mean", .float), .init("epochs_run_mean", .float), .init("trainable_share", .float),
            .init("worker_hours", .float), .init("paired_seeds", .integer), .init("delta\(s)", .float),
            .init("ci_low\(s)", .float), .init("ci_high\(s)", .float), .init("seed_sd\(s)", .float),
            .init("row_sd\(s)", .float), .init("se\(s)", .float), .init("df", .float), .init("p_value", .float),
            .init("p_holm", .float), .init("row_ci_low\(s)", .float), .init("row_ci_high\(s)", .float),
            .init("row_p_value", .float), .init("rows_tested", .boolean),
            .init("p_seed_beats_baseline", .float), .init("threshold\(s)", .float), .init("verdict", .text),
            .init("seed_rule", .text), .init("seeds_to_decide", .integer), .init("seeds_needed", .integer),
            .init("replica_verdict", .text),
        ]
    }

    /// variants.csv.
    public static func variants(_ report: SweepReport) -> TidyTable {
        let metric = report.significance.metric
        let s = deltaSuffix(metric)
        // A setting goes into a variant's row when all of the variant's cells share it (the seed never does).
        let shared = report.variants.map { variant -> [String: TidyValue] in
            let rows = report.cells.filter { $0.variant == variant.name }.map {
                TidyObjectColumns.values($0.configJSON)
            }
            guard let first = rows.first else { return [:] }
            return first.filter { key, value in rows.allSatisfy { $0[key] == value } }
        }
        let settings = ObjectColumns(shared, prefix: "setting_")
        var table = TidyTable(
            columns: variantColumns(metric) + report.classNames.map { TidyColumn("f1_\($0)_mean", .float) }
                + report.classNames.map { TidyColumn("delta_pp_\($0)", .float) } + settings.columns)
        for (index, variant) in report.variants.enumerated() {
            var row: [String: TidyValue] = [
                "variant": .text(variant.name), "is_baseline": .boolean(variant.isBaseline),
                "replica_of": .string(variant.replicaOf), "seeds": .integer(variant.seeds.count),
                "failed_seeds": .integer(variant.failedSeeds),
                "seed_list": .text(variant.seeds.map(String.init).joined(separator: " ")),
                "metric": .text(metric.name), "metric_goal": .text(metric.goal.rawValue),
                "metric_unit": .text(metric.unit),
                "metric_mean": .number(variant.metric.map { $0.mean / metric.scale }),
                "metric_sd": .number(variant.metric?.sd.map { $0 / metric.scale }),
                "val_macro_f1_mean": .number(variant.macroF1.map { $0.mean / 100 }),
                "val_macro_f1_sd": .number(variant.macroF1?.sd.map { $0 / 100 }),
                "val_macro_precision_mean": .number(variant.macroPrecision.map { $0.mean / 100 }),
                "val_macro_recall_mean": .number(variant.macroRecall.map { $0.mean / 100 }),
                "val_accuracy_mean": .number(variant.accuracy.map { $0.mean / 100 }),
                "val_ece_mean": .number(variant.ece?.mean), "best_epoch_mean": .number(variant.bestEpoch?.mean),
                "epochs_run_mean": .number(variant.epochsRun?.mean), "trainable_share": .number(variant.trainableShare),
                "worker_hours": .number(variant.workerHours), "threshold\(s)": .number(report.significance.threshold),
                "verdict": .text(variant.isBaseline ? "baseline" : Verdict.untested.rawValue),
                "replica_verdict": .string(variant.replicaVerdict?.rawValue),
            ]
            for (classIndex, name) in report.classNames.enumerated()
            where variant.perClassF1.indices.contains(classIndex) {
                row["f1_\(name)_mean"] = .number(variant.perClassF1[classIndex].mean / 100)
            }
            if let c = variant.comparison {
                row["paired_seeds"] = .integer(c.pairedSeeds.count)
                row["delta\(s)"] = .number(c.deltaPP)
                row["ci_low\(s)"] = .number(c.interval?.lowPP)
                row["ci_high\(s)"] = .number(c.interval?.highPP)
                row["seed_sd\(s)"] = .number(c.interval?.seedSDPP)
                row["row_sd\(s)"] = .number(c.rowInterval?.sdPP)
                row["se\(s)"] = .number(c.interval?.standardErrorPP)
                row["df"] = .number(c.interval?.df)
                row["p_value"] = .number(c.pValue)
                row["p_holm"] = .number(c.pHolm)
                row["row_ci_low\(s)"] = .number(c.rowInterval?.lowPP)
                row["row_ci_high\(s)"] = .number(c.rowInterval?.highPP)
                row["row_p_value"] = .number(c.rowPValue)
                row["rows_tested"] = .boolean(c.rowsTested)
                row["p_seed_beats_baseline"] = .number(c.probabilityOfImprovement)
                row["verdict"] = .text(c.verdict.rawValue)
                row["seed_rule"] = .text(c.seedRule.rawValue)
                row["seeds_to_decide"] = .count(c.seedsToDecide)
                row["seeds_needed"] = .count(c.seedsNeeded)
                for (classIndex, name) in report.classNames.enumerated() {
                    row["delta_pp_\(name)"] = .number(c.perClassDeltaPP[safe: classIndex])
                }
            }
            row.merge(settings.row(index)) { old, _ in old }
            table.rows.append(row)
        }
        return table
    }

    /// The columns of epochs.csv before the metric columns (one per name any epoch recorded, sorted).
    public static let epochColumns: [TidyColumn] = [
        .init("variant", .text), .init("seed", .integer), .init("cell_id", .text), .init("epoch", .integer),
        .init("is_best_epoch", .boolean),
    ]

    /// epochs.csv.
    public static func epochs(_ report: SweepReport) -> TidyTable {
        let fixed = Set(epochColumns.map(\.name))
        let names = report.cells.flatMap(\.epochs).metricNames.filter { !fixed.contains($0) }
        var table = TidyTable(columns: epochColumns + names.map { TidyColumn($0, .float) })
        for cell in report.cells {
            for point in cell.epochs {
                var row: [String: TidyValue] = [
                    "variant": .text(cell.variant), "seed": .unsigned(cell.seed),
                    "cell_id": .text(cell.cellID), "epoch": .integer(point.epoch),
                    "is_best_epoch": .boolean(point.epoch == cell.bestEpoch),
                ]
                for (name, value) in point.values where !fixed.contains(name) { row[name] = .float(value) }
                table.rows.append(row)
            }
        }
        return table
    }
}

/// Columns made from one JSON object per row (settings, params): one column per key any row has (sorted, the
/// seed left out: it has its own column), typed by the values it holds.
private struct ObjectColumns {
    let columns: [TidyColumn]
    private let rows: [[String: TidyValue]]

    init(_ objects: [[String: TidyValue]], prefix: String) {
        let keys = Set(objects.flatMap(\.keys)).subtracting(["seed"]).sorted()
        let types = keys.map { key in TidyObjectColumns.type(of: objects.map { $0[key] ?? .missing }) }
        columns = zip(keys, types).map { TidyColumn(prefix + $0, $1) }
        rows = objects.map { object in
            var row: [String: TidyValue] = [:]
            for (key, type) in zip(keys, types) {
                if let value = object[key] { row[prefix + key] = TidyObjectColumns.coerce(value, to: type) }
            }
            return row
        }
    }

    /// Row `index`'s values by column name.
    func row(_ index: Int) -> [String: TidyValue] { rows.indices.contains(index) ? rows[index] : [:] }
}
