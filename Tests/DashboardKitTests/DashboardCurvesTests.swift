// DashboardCurvesTests: learning-curve points from stored epoch records — metric lookup, losses, resumed attempts.
import CoordinatorKit
import DashboardKit
import XCTest

final class DashboardCurvesTests: XCTestCase {
    func testNativeRecordsGiveMetricAndLosses() {
        let records = [
            #"{"epoch":1,"seconds":1.5,"train":{"loss":1.25},"val":{"macro_f1":0.5,"loss":1.5}}"#,
            #"{"epoch":2,"seconds":1.5,"train":{"loss":0.75},"val":{"macro_f1":0.625,"loss":1.0}}"#,
        ]
        XCTAssertEqual(
            DashboardCurves.points(records: records, metric: "val_macro_f1"),
            [
                .init(epoch: 1, metric: 0.5, trainLoss: 1.25, valLoss: 1.5),
                .init(epoch: 2, metric: 0.625, trainLoss: 0.75, valLoss: 1.0),
            ])
        XCTAssertEqual(DashboardCurves.points(records: records, metric: "val_loss").map(\.metric), [1.5, 1.0])
        XCTAssertEqual(DashboardCurves.points(records: records, metric: "val_bd_rate").map(\.metric), [nil, nil])
    }

    func testCommandLinesAndResumedAttempts() {
        let records = [
            #"{"epoch":1,"val_bd_rate":-1.5,"train_loss":2.0}"#,
            #"{"epoch":2,"val_bd_rate":-2.0}"#,
            "not json",
            #"{"epoch":2,"val_bd_rate":-2.5,"train_loss":1.0}"#,
            #"{"epoch":3,"val_bd_rate":"n/a"}"#,
        ]
        XCTAssertEqual(
            DashboardCurves.points(records: records, metric: "val_bd_rate"),
            [
                .init(epoch: 1, metric: -1.5, trainLoss: 2.0, valLoss: nil),
                .init(epoch: 2, metric: -2.5, trainLoss: 1.0, valLoss: nil),
                .init(epoch: 3, metric: nil, trainLoss: nil, valLoss: nil),
            ])
    }

    func testJSONDocument() throws {
        let curve = DashboardCurves.Curve(
            cell: "c1", variant: "a", seed: "18446744073709551615", stage: "ablation", state: "running",
            compared: true, epochs: [.init(epoch: 1, metric: 0.5, trainLoss: nil, valLoss: nil)])
        let bytes = try DashboardCurves.json(curves: [curve], metric: SweepMetric(name: "val_loss", goal: .min))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual((object["metric"] as? [String: String])?["goal"], "min")
        let cells = try XCTUnwrap(object["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.first?["seed"] as? String, "18446744073709551615")
        XCTAssertEqual(cells.first?["compared"] as? Bool, true)
        let epoch = try XCTUnwrap((cells.first?["epochs"] as? [[String: Any]])?.first)
        XCTAssertEqual(epoch["metric"] as? Double, 0.5)
        XCTAssertTrue(epoch["train_loss"] is NSNull)
    }
}
