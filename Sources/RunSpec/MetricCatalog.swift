// MetricCatalog: the validation metrics the native trainer records per epoch, and which of them are fractions.

/// The one list of the metrics a native cell records per epoch (its `metrics.jsonl` record's `val` object, by
/// the names command cells write at the top level of their lines: docs/bring-your-own-trainer.md). A sweep with a
/// native variant may judge only these (`metric:`, docs/sweep-format.md).
public enum MetricCatalog {
    /// The metric a sweep is judged on without `metric:`.
    public static let defaultName = "val_macro_f1"

    /// The native trainer's per-epoch validation metrics, each with the field of its record's `val` object.
    public static let native: [(name: String, field: String)] = [
        ("val_macro_f1", "macro_f1"), ("val_macro_precision", "macro_precision"),
        ("val_macro_recall", "macro_recall"), ("val_accuracy", "accuracy"), ("val_ece", "ece"), ("val_loss", "loss"),
    ]

    /// The names of `native`, in order.
    public static var nativeNames: [String] { native.map(\.name) }

    /// Metrics that are fractions (0…1): with the unit `pp` their differences are reported ×100.
    public static let fractions: Set<String> = [
        "val_macro_f1", "val_macro_precision", "val_macro_recall", "val_accuracy",
    ]

    /// Metrics the report recomputes from each validation row's predicted class (`predictions.h5` logits and labels),
    /// so that its paired row-level tests apply to them.
    public static let fromPredictedClasses: Set<String> = ["val_macro_f1", "val_accuracy"]
}
