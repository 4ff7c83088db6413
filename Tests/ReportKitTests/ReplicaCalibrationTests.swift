// ReplicaCalibrationTests: a replica of the baseline judged better or worse is a calibration warning.
import CoordinatorKit
import Foundation
import ReportKit
import XCTest

final class ReplicaCalibrationTests: XCTestCase {
    static let sweepText = """
        name: calibration
        dataset: /nonexistent/data.h5
        stage1_checkpoint: /nonexistent/stage1.h5
        baseline: base
        seeds: [1, 2, 3]
        train: {width: 16, epochs: 5}
        variants:
          base: {loss: cb_focal}
          noisy: {replica_of: base}
          quiet: {replica_of: base}
        significance: {threshold_pp: 1.0, resamples: 2000, seed: 3}
        """

    /// `noisy` predicts far better than its source (a fake difference no replica should show), `quiet` alike.
    func testOnlyAReplicaThatComesOutDifferentIsWarned() throws {
        let fixture = try StateDirectoryFixture.make(
            sweepText: Self.sweepText, skill: ["base": 0.62, "noisy": 0.72, "quiet": 0.62])
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        XCTAssertEqual(report.cells.count, 9)
        let noisy = try XCTUnwrap(report.variants.first { $0.name == "noisy" })
        let quiet = try XCTUnwrap(report.variants.first { $0.name == "quiet" })
        XCTAssertEqual(noisy.replicaOf, "base")
        XCTAssertEqual(quiet.replicaOf, "base")
        XCTAssertNil(report.variants.first { $0.name == "base" }?.replicaOf)
        XCTAssertEqual(noisy.comparison?.verdict, .better)
        XCTAssertEqual(
            noisy.comparison?.pairedSeeds, [1, 2, 3], "paired by the sweep seeds the replica's seeds derive from")
        XCTAssertFalse(noisy.seeds.contains(1), "its cells trained with derived seeds")
        XCTAssertEqual(quiet.comparison?.verdict, .undecided)
        XCTAssertEqual(
            report.warnings,
            ["calibration: replica noisy of base came out better — the noise floor exceeds the threshold"])

        let markdown = MarkdownReport.render(report)
        XCTAssertTrue(markdown.contains("- calibration: replica noisy of base came out better"), markdown)
        XCTAssertTrue(markdown.contains("| noisy (replica of base) |"), markdown)
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(JSONReport.render(report).utf8)) as? [String: Any])
        let variants = try XCTUnwrap(json["variants"] as? [[String: Any]])
        XCTAssertEqual(variants.map { $0["replica_of"] as? String }, [nil, "base", "base"])
        XCTAssertEqual((json["warnings"] as? [String])?.count, 1)
    }

    static let otherSourceText = """
        name: calibration-other
        dataset: /nonexistent/data.h5
        stage1_checkpoint: /nonexistent/stage1.h5
        baseline: base
        seeds: [1, 2, 3]
        train: {width: 16, epochs: 5}
        variants:
          base: {loss: cb_focal}
          poly: {loss: poly, epsilon: 1.0}
          poly_aa: {replica_of: poly}
          poly_bb: {replica_of: poly}
        significance: {threshold_pp: 1.0, resamples: 2000, seed: 3}
        """

    /// A replica of a variant other than the baseline is checked against its own source: `poly_aa` predicts far worse
    /// than `poly` (a difference no replica should show) and is warned; `poly_bb`, alike its source, is not.
    func testAReplicaOfAnotherVariantIsCheckedAgainstItsSource() throws {
        let skill = ["base": 0.62, "poly": 0.72, "poly_aa": 0.60, "poly_bb": 0.72]
        let fixture = try StateDirectoryFixture.make(sweepText: Self.otherSourceText, skill: skill)
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let aa = try XCTUnwrap(report.variants.first { $0.name == "poly_aa" })
        let bb = try XCTUnwrap(report.variants.first { $0.name == "poly_bb" })
        XCTAssertEqual(aa.replicaVerdict, .worse)
        XCTAssertNotEqual(bb.replicaVerdict, .better)
        XCTAssertNotEqual(bb.replicaVerdict, .worse)
        XCTAssertNotNil(bb.replicaVerdict, "three paired seeds are checked")
        XCTAssertNil(report.variants.first { $0.name == "poly" }?.replicaVerdict)
        let calibration = report.warnings.filter { $0.hasPrefix("calibration:") }
        XCTAssertEqual(
            calibration,
            ["calibration: replica poly_aa of poly came out worse than poly — the noise floor exceeds the threshold"])
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(JSONReport.render(report).utf8)) as? [String: Any])
        let variants = try XCTUnwrap(json["variants"] as? [[String: Any]])
        XCTAssertEqual(variants.first { $0["name"] as? String == "poly_aa" }?["replica_verdict"] as? String, "worse")
    }
}
