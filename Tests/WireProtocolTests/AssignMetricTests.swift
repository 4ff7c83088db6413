// AssignMetricTests: ASSIGN's `metric` — absent for val_macro_f1, round-trips, a bad key refused at decode time.
import WireProtocol
import XCTest

final class AssignMetricTests: XCTestCase {
    private func assign(metric: String?) -> Message {
        .assign(
            Assign(
                cell: Samples.cell, attempt: 1, variant: "v", seed: 7, config: "{}", dataset: nil, stage1: nil,
                resume: nil, command: ["sh", "run.sh"], metric: metric))
    }

    func testMetricRoundTripsAndIsAbsentByDefault() throws {
        let plain = String(decoding: MessageCodec.encode(assign(metric: nil))[2], as: UTF8.self)
        XCTAssertFalse(plain.contains("metric"), plain)
        let decoded = try MessageCodec.decode(MessageCodec.encode(assign(metric: "val_rmse")))
        XCTAssertEqual(decoded, assign(metric: "val_rmse"))
    }

    func testBadKeysAreRefusedAtDecode() {
        for key in ["", "Val", "1x", "val-rmse", "../x", String(repeating: "a", count: 65)] {
            XCTAssertThrowsError(try MessageCodec.decode(MessageCodec.encode(assign(metric: key))), key) { error in
                XCTAssertTrue("\(error)".contains("field 'metric'"), "\(key): \(error)")
            }
        }
        XCTAssertNil(MetricKey.problem(String(repeating: "a", count: 64)))
    }
}
