// ReportModel: the values a sweep report holds — per cell (one epoch per row), per variant, comparisons, warnings.
import CoordinatorKit

/// The validation metrics of one epoch (every field from that same epoch).
public struct EpochMetrics: Sendable, Equatable, Codable {
    public var epoch: Int
    public var macroF1: Double
    public var macroPrecision: Double
    public var macroRecall: Double
    public var accuracy: Double
    public var ece: Double
    public var loss: Double
    public var f1: [Double]
    public var precision: [Double]
    public var recall: [Double]
    /// `confusion[true][predicted]`.
    public var confusion: [[Int]]
}

/// Where a cell's result came from: what it was computed from and on what. The dataset and stage-1 hashes and the
/// BLAS kernel and threads are nil for a command cell (its `summary.json` does not record them).
public struct CellProvenance: Sendable, Equatable, Codable {
    /// SHA-256 of the cell's resolved config (canonical JSON, seed included).
    public var configSHA256: String
    public var datasetSHA256: String?
    public var stage1SHA256: String?
    public var codeVersion: String?
    public var worker: String?
    public var host: String?
    public var blasCore: String?
    public var blasThreads: Int?
    /// A command cell's code (`code:` of the sweep, or its command's script): files, hash, git commit and dirty
    /// flag, from the ledger; nil for a cell without code or of unknown code (planned before code was hashed).
    public var code: CodeRecord? = nil

    public init(
        configSHA256: String, datasetSHA256: String?, stage1SHA256: String?, codeVersion: String?, worker: String?,
        host: String?,
        blasCore: String?, blasThreads: Int?
    ) {
        self.configSHA256 = configSHA256
        self.datasetSHA256 = datasetSHA256
        self.stage1SHA256 = stage1SHA256
        self.codeVersion = codeVersion
        self.worker = worker
        self.host = host
        self.blasCore = blasCore
        self.blasThreads = blasThreads
    }
}

/// One finished cell (variant × seed): the best epoch's metrics, the last epoch's kept apart, the training facts.
/// For a command cell (`trainer: command`, docs/bring-your-own-trainer.md) the metrics the command did not report
/// are NaN (per-class lists and the confusion matrix empty) and the facts it cannot know are nil.
public struct CellReport: Sendable, Equatable, Codable {
    public var variant: String
    public var seed: UInt64
    public var cellID: String
    /// `completed`, `early_stopped` or `diverged`.
    public var status: String
    public var best: EpochMetrics
    public var last: EpochMetrics?
    public var bestEpoch: Int
    public var epochsRun: Int
    public var epochsPlanned: Int
    public var earlyStopped: Bool
    /// Parameter counts and the trainable share; nil for a command cell (not reported by the command).
    public var totalParameters: Int?
    public var trainableParameters: Int?
    public var trainableShare: Double?
    /// Training seconds of the final attempt (`summary.json`).
    public var wallSeconds: Double
    /// Worker time over every attempt of the cell (assigned until ended), in hours.
    public var workerHours: Double
    public var attempts: Int
    public var provenance: CellProvenance
    /// Validation macro-F1 per epoch (epoch, value), from `metrics.jsonl`.
    public var history: [EpochValue]
    /// A command cell's params (`params:` of the sweep) as their canonical JSON object; nil when it has none. They
    /// are part of the cell's id, so a loaded cell (whose id the sweep plans) ran with exactly these.
    public var params: String? = nil
    /// The best epoch's value of the sweep's metric (`metric:`), in the metric's own units (a fraction for
    /// `val_macro_f1`); the best epoch is the one with the best value by the metric's goal.
    public var metric: Double = .nan
    /// Every epoch's recorded numbers (`metrics.jsonl`), flattened by `EpochPoint`'s naming rule.
    public var epochs: [EpochPoint] = []
    /// The cell's resolved settings as the ledger stores them (a JSON object; for a command cell its command
    /// settings), from which tidy exports take one column per setting.
    public var configJSON: String? = nil
}

/// One number of one epoch.
public struct EpochValue: Sendable, Equatable, Codable {
    public var epoch: Int
    public var value: Double

    public init(epoch: Int, value: Double) {
        self.epoch = epoch
        self.value = value
    }
}

/// Mean, sample standard deviation (nil under 2 values), minimum and maximum of a metric over a variant's seeds.
public struct Spread: Sendable, Equatable, Codable {
    public var mean: Double
    public var sd: Double?
    public var min: Double
    public var max: Double

    /// The spread of `values`; nil when empty.
    public init?(_ values: [Double]) {
        guard let first = values.first else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        self.mean = mean
        sd =
            values.count > 1
            ? (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : nil
        min = values.reduce(first, Swift.min)
        max = values.reduce(first, Swift.max)
    }
}

/// A variant against the baseline, over the seeds both have finished (paired by seed).
public struct Comparison: Sendable, Equatable, Codable {
    /// The sweep seeds compared (finished by both the variant and the baseline; a replica's cell counts for the
    /// sweep seed its training seed derives from).
    public var pairedSeeds: [UInt64]
    /// Mean best-epoch macro-F1 of the variant's paired seeds minus the baseline's, in points.
    public var deltaPP: Double
    public var perClassDeltaPP: [Double]
    /// Δ with both sources of randomness (seeds and validation rows): the interval, df and p the verdict uses; nil
    /// under 2 paired seeds. Without paired predictions (`rowsTested` false) it has no row component (V_rows = 0).
    public var interval: SeedRowInterval?
    /// The seed-and-row p-value (`interval.pValue`), nil without an interval.
    public var pValue: Double?
    /// `pValue` Holm–Bonferroni-corrected over the sweep's variants.
    public var pHolm: Double?
    /// The level this comparison was judged at: α, or in an adaptive sweep the level of its look
    /// (`SequentialDesign.level(atSeeds:)`); the interval is the (1 − level) interval.
    public var level: Double = 0.05
    /// Whether the row component is in `interval` (every paired cell had usable `predictions.h5`); false: seeds only.
    public var rowsTested: Bool = true
    /// Row level only (each trained model fixed): the paired-bootstrap interval at 1 − α over validation rows,
    /// overall and per class, and its replicates' SD (nil without predictions).
    public var rowInterval: DeltaInterval?
    /// Row level only: the paired approximate-randomization p-value (nil without predictions).
    public var rowPValue: Double?
    public var verdict: Verdict
    /// The research pipeline's rule on the same Δ.
    public var seedRule: SeedRule
    /// Paired seeds per side at which the observed components would decide an `undecided` comparison
    /// (`SeedRowInterval.seedsToDecide`); nil when decided or when no number of seeds can.
    public var seedsToDecide: Int?
    /// Seeds per variant that would resolve a threshold-sized difference (`PowerHint`).
    public var seedsNeeded: Int?
    /// P(a variant seed's metric beats a baseline seed's by the metric's goal), U / (n·m) over the paired seeds.
    public var probabilityOfImprovement: Double?
    /// The unit of Δ (`metric.unit`: `pp` by default).
    public var unit: String = "pp"
    /// The metric's name when it has no per-row form (so the comparison is seeds only whatever the files); nil
    /// otherwise.
    public var noRowForm: String? = nil

    /// Why a seeds-only comparison has no row component.
    var seedsOnlyNote: String {
        noRowForm.map { "seeds only, no row component (\($0) has no per-row form)" } ?? Self.seedsOnly
    }

    /// The note of a comparison without paired predictions.
    public static let seedsOnly = "seeds only, no row component (no paired predictions.h5)"

    /// The one-line plain-language reading of the verdict.
    public var sentence: String {
        let f = ReportFormatting.self
        let range = interval.map { "[" + f.signed($0.lowPP) + ", " + f.signed($0.highPP) + "]" } ?? ""
        switch verdict {
        case .better, .worse:
            let sources = rowsTested ? "seeds and validation rows both accounted for" : seedsOnlyNote
            return "\(verdict.rawValue) by \(f.number(abs(deltaPP))) \(unit) \(range); \(sources)"
        case .equivalent:
            return "equivalent: within the threshold by two one-sided tests (Δ \(f.signed(deltaPP)) \(unit) \(range))"
                + (rowsTested ? "" : "; \(seedsOnlyNote)")
        case .undecided:
            if pairedSeeds.count < 2 {
                return "undecided: one paired seed gives no seed variance; run at least 2 seeds per side"
            }
            let note = rowsTested ? "" : "; \(seedsOnlyNote)"
            if let seedsToDecide { return "undecided: about \(seedsToDecide) seeds per side would decide it" + note }
            return "undecided: no number of seeds would decide it (the validation rows' noise or Δ on the threshold)"
                + note
        case .untested:
            return "not tested: no paired seed with the baseline"
        }
    }
}

/// One variant over its finished seeds.
public struct VariantReport: Sendable, Equatable, Codable {
    public var name: String
    public var isBaseline: Bool
    public var seeds: [UInt64]
    public var failedSeeds: Int
    public var macroF1: Spread?
    public var macroPrecision: Spread?
    public var macroRecall: Spread?
    public var accuracy: Spread?
    public var ece: Spread?
    public var perClassF1: [Spread]
    public var bestEpoch: Spread?
    public var epochsRun: Spread?
    public var trainableShare: Double?
    public var workerHours: Double
    /// Against the baseline; nil for the baseline itself and for variants without a paired seed.
    public var comparison: Comparison?
    /// The variant this one replicates (`replica_of`), nil for an ordinary variant.
    public var replicaOf: String? = nil
    /// For a replica of a variant other than the baseline: its verdict against its own source (nil otherwise, or
    /// under 2 paired seeds).
    public var replicaVerdict: Verdict? = nil
    /// The sweep's metric over the variant's seeds, in the unit of its differences (×100 for a fraction in pp).
    public var metric: Spread? = nil
}

/// A whole sweep's report.
public struct SweepReport: Sendable, Equatable, Codable {
    public var sweep: String
    public var baseline: String
    public var classNames: [String]
    public var significance: SignificanceSummary
    public var cells: [CellReport]
    public var variants: [VariantReport]
    /// Provenance and consistency warnings, one line each.
    public var warnings: [String]
    /// Unix time at which the report was made.
    public var generatedAt: Double
}

/// The settings the comparisons used.
public struct SignificanceSummary: Sendable, Equatable, Codable {
    public var thresholdPP: Double
    public var alpha: Double
    public var resamples: Int
    public var seed: UInt64
    /// The adaptive-seed design the verdicts were judged under; nil for a fixed list of seeds.
    public var design: SequentialDesign? = nil
    /// The metric judged on, its threshold resolved (`metric.threshold` is never nil here).
    public var metric = SweepMetric()
    /// Whether the metric has a per-row form here (a classification metric, or cells with a `score` dataset), so
    /// that the row-level tests can apply.
    public var rowLevel = true

    /// The threshold of the verdicts, in the metric's unit.
    public var threshold: Double { metric.threshold ?? thresholdPP }
}
