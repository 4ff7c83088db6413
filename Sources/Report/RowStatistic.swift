// RowStatistic: which classification metric the row-level tests recompute from each resample's confusion matrices.
import RunSpec

/// The metric `RowPatterns.delta` recomputes per resample or round from each cell's confusion matrix.
public enum RowStatistic: String, Sendable, Hashable {
    /// Macro-F1 over all classes (scikit-learn's, `zero_division=0`).
    case macroF1 = "val_macro_f1"
    /// The share of rows predicted correctly.
    case accuracy = "val_accuracy"

    /// The statistic of a metric name (`MetricCatalog.fromPredictedClasses`), nil for any other metric.
    public init?(metric: String) {
        guard MetricCatalog.fromPredictedClasses.contains(metric) else { return nil }
        self.init(rawValue: metric)
    }
}
