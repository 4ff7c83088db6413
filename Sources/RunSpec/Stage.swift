// Stage: the stages of the hierarchical partition classifier, and what every module needs to know of each.

/// A stage of the hierarchical classifier (research pipeline: Stage 1 NONE vs PARTITION; Stage 2 SPLIT, RECT, AB;
/// Stage 3-RECT HORZ, VERT; Stage 3-AB HORZ_A, HORZ_B, VERT_A, VERT_B). The raw value is the form used in run files,
/// sweeps, checkpoints and datasets. Modules add what is theirs: the label mapping (`DatasetKit`), the head (`NN`).
public enum Stage: String, CaseIterable, Sendable, Codable {
    case stage1 = "1"
    case stage2 = "2"
    case stage3Rect = "3rect"
    case stage3AB = "3ab"

    /// Class names in label order.
    public var classNames: [String] {
        switch self {
        case .stage1: ["NONE", "PARTITION"]
        case .stage2: ["SPLIT", "RECT", "AB"]
        case .stage3Rect: ["HORZ", "VERT"]
        case .stage3AB: ["HORZ_A", "HORZ_B", "VERT_A", "VERT_B"]
        }
    }

    /// Number of classes.
    public var classCount: Int { classNames.count }

    /// Whether the backbone is frozen and adapters are trained (every stage but Stage 1).
    public var usesAdapters: Bool { self != .stage1 }

    /// The raw values, for messages: `1, 2, 3rect or 3ab`.
    public static var allNames: String { "1, 2, 3rect or 3ab" }
}
