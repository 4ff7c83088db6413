// JSONReport: the report as JSON (schema in docs/report-format.md): sweep, settings, cells[], variants[], warnings[].
import CoordinatorKit
import Foundation
import RunSpec

/// Renders a `SweepReport` as the documented JSON (`format: ablate-report`, `format_version: 1`). Metrics are
/// fractions (0…1) as in `summary.json`; differences and intervals are percentage points (`_pp`).
public enum JSONReport {
    /// The JSON text (ends with a newline).
    public static func render(_ report: SweepReport) -> String {
        value(report).text() + "\n"
    }

    /// The JSON tree.
    public static func value(_ report: SweepReport) -> JSONValue {
        let s = report.significance
        return .object([
            ("format", .string("ablate-report")), ("format_version", .int(1)),
            ("sweep", .string(report.sweep)), ("baseline", .string(report.baseline)),
            ("threshold_pp", .number(s.thresholdPP)), ("alpha", .number(s.alpha)), ("resamples", .int(s.resamples)),
            ("resample_seed", .string(String(s.seed))),
            ("adaptive", adaptive(s.design)),
            (
                "metric",
                .object([
                    ("name", .string(s.metric.name)), ("goal", .string(s.metric.goal.rawValue)),
                    ("unit", .string(s.metric.unit)), ("threshold", .number(s.threshold)),
                    ("row_level", .bool(s.rowLevel)),
                ])
            ),
            ("class_names", .array(report.classNames.map(JSONValue.string))),
            (
                "generated_at",
                .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: report.generatedAt)))
            ),
            ("cells", .array(report.cells.map { cell($0, classes: report.classNames) })),
            (
                "variants",
                .array(report.variants.map { variant($0, classes: report.classNames, scale: s.metric.scale) })
            ),
            ("warnings", .array(report.warnings.map(JSONValue.string))),
        ])
    }

    /// The adaptive-seed design, or null for a fixed list of seeds.
    private static func adaptive(_ design: SequentialDesign?) -> JSONValue {
        guard let design else { return .null }
        return .object([
            ("initial_seeds", .int(design.initialSeeds)), ("max_seeds", .int(design.maximumSeeds)),
            ("levels", .array(design.levels.map(JSONValue.number))),
        ])
    }

    private static func epoch(_ metrics: EpochMetrics, classes: [String]) -> JSONValue {
        let perClass: [(String, JSONValue)] = classes.enumerated().map { c, name in
            (
                name,
                .object([
                    ("f1", .optional(metrics.f1[safe: c])), ("precision", .optional(metrics.precision[safe: c])),
                    ("recall", .optional(metrics.recall[safe: c])),
                ])
            )
        }
        return .object([
            ("epoch", .int(metrics.epoch)), ("macro_f1", .number(metrics.macroF1)),
            ("macro_precision", .number(metrics.macroPrecision)),
            ("macro_recall", .number(metrics.macroRecall)), ("accuracy", .number(metrics.accuracy)),
            ("ece", .number(metrics.ece)),
            ("loss", .optional(metrics.loss)), ("per_class", .object(perClass)),
            ("confusion", .array(metrics.confusion.map { .array($0.map(JSONValue.int)) })),
        ])
    }

    private static func cell(_ cell: CellReport, classes: [String]) -> JSONValue {
        let p = cell.provenance
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func integer(_ value: Int?) -> JSONValue { value.map(JSONValue.int) ?? .null }
        return .object([
            ("variant", .string(cell.variant)), ("seed", .string(String(cell.seed))), ("cell_id", .string(cell.cellID)),
            ("status", .string(cell.status)), ("best_epoch", .int(cell.bestEpoch)),
            ("epochs_run", .int(cell.epochsRun)),
            ("epochs_planned", .int(cell.epochsPlanned)), ("early_stopped", .bool(cell.earlyStopped)),
            ("best", epoch(cell.best, classes: classes)), ("metric", .optional(cell.metric)),
            ("last", cell.last.map { epoch($0, classes: classes) } ?? .null),
            (
                "parameters",
                .object([
                    ("total", integer(cell.totalParameters)), ("trainable", integer(cell.trainableParameters)),
                    ("trainable_share", .optional(cell.trainableShare)),
                ])
            ),
            ("wall_seconds", .number(cell.wallSeconds)), ("worker_hours", .number(cell.workerHours)),
            ("attempts", .int(cell.attempts)),
            ("params", params(cell.params)),
            (
                "provenance",
                .object([
                    ("config_sha256", .string(p.configSHA256)), ("dataset_sha256", text(p.datasetSHA256)),
                    ("stage1_sha256", text(p.stage1SHA256)), ("code_version", text(p.codeVersion)),
                    ("worker", text(p.worker)),
                    ("host", text(p.host)), ("blas_core", text(p.blasCore)), ("blas_threads", integer(p.blasThreads)),
                    ("code", code(p.code)),
                ])
            ),
        ])
    }

    /// A cell's code as `{sha256, commit, dirty, assumed, files: [{path, sha256}]}` (`null` for none).
    private static func code(_ record: CodeRecord?) -> JSONValue {
        guard let record else { return .null }
        return .object([
            ("sha256", .string(record.sha256)), ("commit", record.commit.map(JSONValue.string) ?? .null),
            ("dirty", record.dirty.map(JSONValue.bool) ?? .null), ("assumed", .bool(record.assumed == true)),
            (
                "files",
                .array(record.files.map { .object([("path", .string($0.path)), ("sha256", .string($0.sha256))]) })
            ),
        ])
    }

    /// A cell's params as a JSON object (`null` for none).
    private static func params(_ text: String?) -> JSONValue {
        guard let text, let params = try? CommandParams(json: text) else { return .null }
        func scalar(_ value: ParamScalar) -> JSONValue {
            switch value {
            case .integer(let value): .int(value)
            case .number(let value): .number(value)
            case .text(let value): .string(value)
            case .bool(let value): .bool(value)
            }
        }
        return .object(
            params.names.compactMap { name in
                switch params.values[name] {
                case .scalar(let value)?: (name, scalar(value))
                case .list(let items)?: (name, .array(items.map(scalar)))
                case nil: nil
                }
            })
    }

    private static func spread(_ prefix: String, _ spread: Spread?, scale: Double) -> [(String, JSONValue)] {
        [
            ("\(prefix)_mean", .optional(spread.map { $0.mean / scale })),
            ("\(prefix)_sd", .optional(spread?.sd.map { $0 / scale })),
            ("\(prefix)_min", .optional(spread.map { $0.min / scale })),
            ("\(prefix)_max", .optional(spread.map { $0.max / scale })),
        ]
    }

    private static func variant(_ variant: VariantReport, classes: [String], scale: Double) -> JSONValue {
        let c = variant.comparison
        let perClass: [(String, JSONValue)] = classes.enumerated().map { index, name in
            let spread = variant.perClassF1.indices.contains(index) ? variant.perClassF1[index] : nil
            return (
                name,
                .object(
                    self.spread("f1", spread, scale: 100) + [
                        ("delta_pp", .optional(c?.perClassDeltaPP[safe: index])),
                        ("row_ci_low_pp", .optional(c?.rowInterval?.perClassLowPP[safe: index])),
                        ("row_ci_high_pp", .optional(c?.rowInterval?.perClassHighPP[safe: index])),
                    ])
            )
        }
        var pairs: [(String, JSONValue)] = [
            ("name", .string(variant.name)), ("is_baseline", .bool(variant.isBaseline)),
            ("replica_of", variant.replicaOf.map(JSONValue.string) ?? .null),
            ("replica_verdict", variant.replicaVerdict.map { .string($0.rawValue) } ?? .null),
            ("seeds", .array(variant.seeds.map { .string(String($0)) })), ("failed_seeds", .int(variant.failedSeeds)),
        ]
        pairs +=
            spread("macro_f1", variant.macroF1, scale: 100) + spread("precision", variant.macroPrecision, scale: 100)
            + spread("recall", variant.macroRecall, scale: 100) + spread("accuracy", variant.accuracy, scale: 100)
            + spread("ece", variant.ece, scale: 1)
            + spread("best_epoch", variant.bestEpoch, scale: 1) + spread("epochs_run", variant.epochsRun, scale: 1)
            + spread("metric", variant.metric, scale: scale)
        pairs += [
            ("trainable_share", .optional(variant.trainableShare)), ("worker_hours", .number(variant.workerHours)),
            ("paired_seeds", .array((c?.pairedSeeds ?? []).map { .string(String($0)) })),
            ("delta_pp", .optional(c?.deltaPP)), ("ci_low_pp", .optional(c?.interval?.lowPP)),
            ("ci_high_pp", .optional(c?.interval?.highPP)),
            ("per_seed_delta_pp", c?.interval.map { .array($0.perSeedDeltaPP.map(JSONValue.number)) } ?? .null),
            ("seed_sd_pp", .optional(c?.interval?.seedSDPP)),
            ("seed_variance_pp2", .optional(c?.interval?.seedVariance)),
            ("row_variance_pp2", .optional(c?.interval?.rowVariance)), ("row_se_pp", .optional(c?.rowInterval?.sdPP)),
            ("se_pp", .optional(c?.interval?.standardErrorPP)),
            ("rows_tested", c.map { .bool($0.rowsTested) } ?? .null), ("df", .optional(c?.interval?.df)),
            ("equivalence_ci_low_pp", .optional(c?.interval?.equivalenceLowPP)),
            ("equivalence_ci_high_pp", .optional(c?.interval?.equivalenceHighPP)),
            ("p_value", .optional(c?.pValue)), ("p_holm", .optional(c?.pHolm)), ("level", .optional(c?.level)),
            ("row_ci_low_pp", .optional(c?.rowInterval?.lowPP)), ("row_ci_high_pp", .optional(c?.rowInterval?.highPP)),
            ("row_p_value", .optional(c?.rowPValue)),
            ("p_seed_beats_baseline", .optional(c?.probabilityOfImprovement)),
            (
                "verdict",
                c.map { .string($0.verdict.rawValue) }
                    ?? (variant.isBaseline ? .string("baseline") : .string(Verdict.untested.rawValue))
            ),
            ("seed_rule", c.map { .string($0.seedRule.rawValue) } ?? .null),
            ("summary", c.map { .string($0.sentence) } ?? .null),
            ("seeds_to_decide", c?.seedsToDecide.map(JSONValue.int) ?? .null),
            ("seeds_needed", c?.seedsNeeded.map(JSONValue.int) ?? .null),
            ("per_class", .object(perClass)),
        ]
        return .object(pairs)
    }
}
