// CommandCellReportTests: command cells (no predictions.h5, command summaries) reach the report with seeds-only verdicts.
import Foundation
import ReportKit
import XCTest

final class CommandCellReportTests: XCTestCase {
    /// A sweep whose every cell is a command cell: each cell is loaded from the command's lines (best epoch =
    /// highest `val_macro_f1`), the facts the command cannot know are absent, every comparison is judged on the
    /// seed component alone (`rowsTested` false, row variance 0) and no provenance warning is raised for the
    /// missing hashes and BLAS kernel.
    func testCommandCellsGetSeedsOnlyVerdicts() throws {
        let fixture = try StateDirectoryFixture.make(command: true)
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        XCTAssertEqual(report.cells.count, 9, "every command cell is in the report: \(report.warnings)")
        XCTAssertEqual(report.classNames, [], "a command reports no per-class F1")
        XCTAssertFalse(
            report.warnings.contains {
                $0.contains("left out") || $0.contains(" vs baseline ") || $0.contains("differ in")
            },
            "\(report.warnings)")
        for cell in report.cells {
            let best = try XCTUnwrap(fixture.best["\(cell.variant)/\(cell.seed)"])
            let last = try XCTUnwrap(fixture.last["\(cell.variant)/\(cell.seed)"])
            XCTAssertEqual(cell.bestEpoch, StateDirectoryFixture.bestEpoch)
            XCTAssertEqual(cell.best.epoch, StateDirectoryFixture.bestEpoch)
            XCTAssertEqual(cell.best.macroF1, best.macroF1, accuracy: 1e-12)
            XCTAssertEqual(cell.best.accuracy, best.accuracy, accuracy: 1e-12)
            XCTAssertEqual(cell.best.macroPrecision, best.macroPrecision, accuracy: 1e-12)
            XCTAssertTrue(cell.best.macroRecall.isNaN, "not reported by the command")
            XCTAssertTrue(cell.best.f1.isEmpty)
            XCTAssertEqual(cell.last?.epoch, 5)
            XCTAssertEqual(try XCTUnwrap(cell.last?.macroF1), last.macroF1, accuracy: 1e-12)
            XCTAssertEqual(cell.epochsRun, 5)
            XCTAssertNil(cell.totalParameters)
            XCTAssertNil(cell.trainableShare)
            XCTAssertNil(cell.provenance.datasetSHA256)
            XCTAssertNil(cell.provenance.blasCore)
            XCTAssertEqual(
                cell.history.map(\.epoch), [1, 2, 3, 4, 5], "the history comes from the command's metrics.jsonl")
            XCTAssertEqual(try XCTUnwrap(cell.history.first { $0.epoch == 3 }).value, best.macroF1, accuracy: 1e-12)
        }
        let good = try XCTUnwrap(report.variants.first { $0.name == "good" }?.comparison)
        let same = try XCTUnwrap(report.variants.first { $0.name == "same" }?.comparison)
        for comparison in [good, same] {
            XCTAssertFalse(comparison.rowsTested)
            XCTAssertNil(comparison.rowInterval)
            XCTAssertNil(comparison.rowPValue)
            let interval = try XCTUnwrap(comparison.interval)
            XCTAssertEqual(interval.rowVariance, 0)
            XCTAssertEqual(interval.standardErrorPP, interval.seedVariance.squareRoot(), accuracy: 1e-12)
            XCTAssertNotEqual(comparison.verdict, .untested)
            XCTAssertTrue(comparison.sentence.contains("seeds only"), comparison.sentence)
        }
        XCTAssertEqual(good.verdict, .better, "good is about 10 pp better on every seed: \(good.sentence)")
        XCTAssertEqual(same.pairedSeeds.count, 3)
        XCTAssertNotNil(same.pHolm)

        // Every renderer takes the cells with absent metrics.
        let markdown = MarkdownReport.render(report)
        XCTAssertTrue(markdown.contains("**better**"))
        XCTAssertTrue(markdown.contains("— (seeds only)"))
        XCTAssertTrue(MarkdownReport.verdictTable(report).contains("seeds only, no row component"))
        let csv = CSVReport.render(report)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 9 + 3, csv)
        XCTAssertFalse(csv.contains("nan"))
        let html = HTMLReport.render(report)
        XCTAssertTrue(html.contains("</html>"))
        XCTAssertFalse(html.contains("NaN") || html.contains("nan,"))
        let json = JSONReport.render(report)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let cells = try XCTUnwrap(object["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.count, 9)
        let provenance = try XCTUnwrap(cells.first?["provenance"] as? [String: Any])
        XCTAssertTrue(provenance["dataset_sha256"] is NSNull)
        let parameters = try XCTUnwrap(cells.first?["parameters"] as? [String: Any])
        XCTAssertTrue(parameters["total"] is NSNull)
        let variants = try XCTUnwrap(object["variants"] as? [[String: Any]])
        let goodJSON = try XCTUnwrap(variants.first { $0["name"] as? String == "good" })
        XCTAssertEqual(goodJSON["verdict"] as? String, "better")
        XCTAssertEqual(goodJSON["rows_tested"] as? Bool, false)
    }

    /// With `predictions.h5` the paired row tests stay: `rowsTested` and a row component.
    func testNativeCellsKeepTheRowComponent() throws {
        let fixture = try StateDirectoryFixture.make()
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let good = try XCTUnwrap(report.variants.first { $0.name == "good" }?.comparison)
        XCTAssertTrue(good.rowsTested)
        XCTAssertNotNil(good.rowInterval)
        XCTAssertGreaterThan(try XCTUnwrap(good.interval).rowVariance, 0)
        XCTAssertFalse(good.sentence.contains("seeds only"))
    }
}
