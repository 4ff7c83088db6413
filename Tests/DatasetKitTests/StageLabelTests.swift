// StageLabelTests: the stage label mappings of the research pipeline, in full.
import DatasetKit
import RunSpec
import Testing

@Suite("Stage label mappings")
struct StageLabelTests {
    /// The whole table: partition id 0–9 → label per stage (nil = excluded, the research code's −1).
    @Test func mappingTable() {
        let expected: [Stage: [Int?]] = [
            .stage1: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            .stage2: [nil, 1, 1, 0, 2, 2, 2, 2, nil, nil],
            .stage3Rect: [nil, 0, 1, nil, nil, nil, nil, nil, nil, nil],
            .stage3AB: [nil, nil, nil, nil, 0, 1, 2, 3, nil, nil],
        ]
        for (stage, labels) in expected {
            #expect((0...9).map { stage.label(forPartitionID: UInt8($0)) } == labels, "stage \(stage)")
        }
        #expect(Stage.stage2.label(forPartitionID: 10) == nil)
    }

    @Test func classNamesAndCounts() {
        #expect(Stage.stage2.classNames == ["SPLIT", "RECT", "AB"])
        #expect(Stage.stage3AB.classNames == ["HORZ_A", "HORZ_B", "VERT_A", "VERT_B"])
        #expect(Stage.allCases.map(\.classCount) == [2, 3, 2, 4])
        #expect(Partition.horzA.name == "PARTITION_HORZ_A")
    }

    /// Flat-id reconstruction: SPLIT→3, RECT index+1, AB index+4.
    @Test func flatIDReconstruction() {
        #expect(Stage.stage2.partitionID(forLabel: 0) == 3)
        #expect((0...1).map { Stage.stage3Rect.partitionID(forLabel: $0) } == [1, 2])
        #expect((0...3).map { Stage.stage3AB.partitionID(forLabel: $0) } == [4, 5, 6, 7])
        #expect(Stage.stage1.partitionID(forLabel: 0) == 0)
        // Round trip for every id a stage owns.
        for stage in [Stage.stage3Rect, .stage3AB] {
            for id in UInt8(0)...9 {
                if let label = stage.label(forPartitionID: id) {
                    #expect(stage.partitionID(forLabel: label) == id)
                }
            }
        }
    }

    @Test func selectKeepsOnlyTheStagesRows() {
        let ids: [UInt8] = [0, 3, 1, 9, 7, 2, 0]
        let (rows, labels) = Stage.stage2.select(partitionIDs: ids)
        #expect(rows == [1, 2, 4, 5])
        #expect(labels == [0, 1, 2, 1])
    }
}
