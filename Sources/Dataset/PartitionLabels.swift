// PartitionLabels: the AV1 partition ids and the one place that maps them to each stage's labels.
import RunSpec

/// An AV1 partition decision for a block (`PARTITION_*` ids 0–9).
public enum Partition: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case none = 0, horz = 1, vert = 2, split = 3
    case horzA = 4, horzB = 5, vertA = 6, vertB = 7
    case horz4 = 8, vert4 = 9

    /// The encoder's name, e.g. `PARTITION_HORZ_A`.
    public var name: String {
        switch self {
        case .none: "PARTITION_NONE"
        case .horz: "PARTITION_HORZ"
        case .vert: "PARTITION_VERT"
        case .split: "PARTITION_SPLIT"
        case .horzA: "PARTITION_HORZ_A"
        case .horzB: "PARTITION_HORZ_B"
        case .vertA: "PARTITION_VERT_A"
        case .vertB: "PARTITION_VERT_B"
        case .horz4: "PARTITION_HORZ_4"
        case .vert4: "PARTITION_VERT_4"
        }
    }

    /// The name without the `PARTITION_` prefix.
    public var description: String { String(name.dropFirst("PARTITION_".count)) }
}

/// Each stage's label mapping from raw partition ids.
///
/// Reference: the research pipeline's label derivation (Stage 1 NONE vs PARTITION; Stage 2 SPLIT=0,
/// RECT=1, AB=2; Stage 3-RECT HORZ=0, VERT=1; Stage 3-AB HORZ_A=0, HORZ_B=1, VERT_A=2, VERT_B=3). Ids
/// outside a stage map to nil (the research code's −1) and are excluded from that stage.
extension Stage {
    /// The stage label of a raw partition id, or nil when the id is not part of this stage.
    public func label(forPartitionID id: UInt8) -> Int? {
        guard let partition = Partition(rawValue: id) else { return nil }
        switch self {
        case .stage1:
            return partition == .none ? 0 : 1
        case .stage2:
            switch partition {
            case .split: return 0
            case .horz, .vert: return 1
            case .horzA, .horzB, .vertA, .vertB: return 2
            case .none, .horz4, .vert4: return nil
            }
        case .stage3Rect:
            switch partition {
            case .horz: return 0
            case .vert: return 1
            default: return nil
            }
        case .stage3AB:
            switch partition {
            case .horzA: return 0
            case .horzB: return 1
            case .vertA: return 2
            case .vertB: return 3
            default: return nil
            }
        }
    }

    /// The flat partition id of a stage decision, as the hierarchical pipelines reconstruct it
    /// (Stage 2: SPLIT→3, RECT→1 (refined by Stage 3-RECT), AB→4 (refined by Stage 3-AB)).
    public func partitionID(forLabel label: Int) -> UInt8? {
        switch (self, label) {
        case (.stage1, 0): return 0
        case (.stage1, 1): return nil  // "some partition": not a single id
        case (.stage2, 0): return 3
        case (.stage2, 1), (.stage2, 2): return nil  // RECT/AB need Stage 3 to name the id
        case (.stage3Rect, 0...1): return UInt8(label + 1)
        case (.stage3AB, 0...3): return UInt8(label + 4)
        default: return nil
        }
    }

    /// Row indices and labels of the rows that belong to this stage.
    public func select(partitionIDs: [UInt8]) -> (rows: [Int], labels: [Int]) {
        var rows: [Int] = []
        var labels: [Int] = []
        for (row, id) in partitionIDs.enumerated() {
            if let label = label(forPartitionID: id) {
                rows.append(row)
                labels.append(label)
            }
        }
        return (rows, labels)
    }
}
