// SmallSeedVerdictTests: with 2 seeds, a Δ smaller than its seed noise is not `better`, whatever the rows say.
import Foundation
import ReportKit
import XCTest

final class SmallSeedVerdictTests: XCTestCase {
    static let sweepText = """
        name: two-seeds
        dataset: /nonexistent/data.h5
        stage1_checkpoint: /nonexistent/stage1.h5
        baseline: base
        seeds: [1, 2]
        train: {width: 16, epochs: 5}
        variants:
          base: {loss: cb_focal}
          poly: {loss: poly, epsilon: 1.0}
          solo: {loss: focal, gamma: 2.0}
        significance: {threshold_pp: 1.0, resamples: 2000, seed: 3}
        """

    /// The baseline's two seeds differ by about 4 pp; `poly` beats seed 1 by far and seed 2 barely. Every trained
    /// model held fixed, the rows alone call it better (the row-level interval excludes 0); with the seed noise
    /// counted it is undecided, and the table says how many seeds would decide.
    func testDeltaWithinSeedNoiseIsNotBetter() throws {
        let skill = ["base/1": 0.58, "base/2": 0.62, "poly/1": 0.645, "poly/2": 0.635, "solo": 0.62]
        let fixture = try StateDirectoryFixture.make(sweepText: Self.sweepText, skill: skill)
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let poly = try XCTUnwrap(report.variants.first { $0.name == "poly" }?.comparison)
        XCTAssertEqual(poly.pairedSeeds, [1, 2])
        XCTAssertGreaterThan(poly.deltaPP, 1, "Δ passes the threshold on the point estimate")
        XCTAssertEqual(poly.seedRule, .better)
        XCTAssertGreaterThan(
            try XCTUnwrap(poly.rowInterval?.lowPP), 0, "the row-only interval excludes 0 (the old rule's better)")
        let interval = try XCTUnwrap(poly.interval)
        XCTAssertGreaterThan(interval.seedSDPP, 1)
        XCTAssertLessThan(interval.lowPP, 0, "the seed-and-row interval includes 0")
        XCTAssertEqual(poly.verdict, .undecided)
        XCTAssertTrue(poly.sentence.hasPrefix("undecided"), poly.sentence)

        let table = MarkdownReport.verdictTable(report)
        XCTAssertTrue(table.contains("**undecided**"), table)
        XCTAssertFalse(table.contains("significant difference"), table)
        XCTAssertTrue(table.contains("- poly: undecided"), table)
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(JSONReport.render(report).utf8)) as? [String: Any])
        let variants = try XCTUnwrap(json["variants"] as? [[String: Any]])
        let row = try XCTUnwrap(variants.first { $0["name"] as? String == "poly" })
        XCTAssertEqual((row["per_seed_delta_pp"] as? [Double])?.count, 2)
        XCTAssertEqual(row["verdict"] as? String, "undecided")
    }

    /// One paired seed: no seed variance, so no interval, no p and `undecided` with the reason; the other variant's
    /// Holm family is just itself.
    func testOnePairedSeedIsUndecidedWithoutInterval() throws {
        let text = Self.sweepText.replacingOccurrences(of: "seeds: [1, 2]", with: "seeds: [1]")
        let fixture = try StateDirectoryFixture.make(
            sweepText: text, skill: ["base": 0.55, "poly": 0.75, "solo": 0.55])
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let poly = try XCTUnwrap(report.variants.first { $0.name == "poly" }?.comparison)
        XCTAssertNil(poly.interval)
        XCTAssertNil(poly.pValue)
        XCTAssertNil(poly.pHolm)
        XCTAssertNotNil(poly.rowInterval, "the row-level bootstrap still runs")
        XCTAssertEqual(poly.verdict, .undecided)
        XCTAssertTrue(poly.sentence.contains("one paired seed"), poly.sentence)
    }

    /// Holm is applied across the variants on the seed-and-row p-values.
    func testHolmAcrossVariants() throws {
        let text = Self.sweepText.replacingOccurrences(of: "seeds: [1, 2]", with: "seeds: [1, 2, 3]")
        let fixture = try StateDirectoryFixture.make(sweepText: text, skill: ["base": 0.6, "poly": 0.7, "solo": 0.64])
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let compared = report.variants.compactMap(\.comparison)
        let p = compared.map(\.pValue)
        XCTAssertEqual(compared.map(\.pHolm), HolmBonferroni.adjust(p))
        XCTAssertTrue(zip(compared.compactMap(\.pHolm), compared.compactMap(\.pValue)).allSatisfy { $0 >= $1 })
    }
}
