// ReportEndToEndTests: a report built from a real state directory — verdicts, best-epoch rows, renderers, errors.
import CoordinatorKit
import Foundation
import HDF5Kit
import NN
import ReportKit
import XCTest

final class ReportEndToEndTests: XCTestCase {
    /// A cache filled by a build that lacked one variant's cells gives, for the whole sweep, the report built
    /// without it: each comparison's tests depend only on its own rows and the settings. The second build with the
    /// cache computes only the comparison that was missing, and a third takes all from it.
    func testCachedPairedTestsGiveTheUncachedReport() throws {
        let fixture = try StateDirectoryFixture.make()
        let inputs = try ReportLoader.load(stateDirectory: fixture.state)
        let fresh = try ReportBuilder.build(inputs, now: 1_800_000_000)
        let tested = fresh.variants.filter { $0.comparison?.pValue != nil }.map(\.name)
        XCTAssertGreaterThanOrEqual(tested.count, 2, "the fixture compares several variants")
        var partial = inputs
        partial.cells.removeAll { $0.report.variant == tested[0] }
        let cache = PairedTestCache()
        _ = try ReportBuilder.build(partial, now: 1_800_000_000, cache: cache)
        XCTAssertEqual(cache.count, tested.count - 1)
        XCTAssertEqual(try ReportBuilder.build(inputs, now: 1_800_000_000, cache: cache), fresh)
        XCTAssertEqual(cache.count, tested.count)
        XCTAssertEqual(try ReportBuilder.build(inputs, now: 1_800_000_000, parallel: false, cache: cache), fresh)
        XCTAssertEqual(cache.count, tested.count)
    }

    /// The paired tests give the same report whether they run on two threads (the final report) or one after the
    /// other on the caller's (the SCHED_IDLE refresh): each has its own random stream.
    func testSequentialAndParallelPairedTestsAgree() throws {
        let fixture = try StateDirectoryFixture.make()
        let parallel = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000, parallel: true)
        let sequential = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000, parallel: false)
        XCTAssertEqual(sequential, parallel)
        XCTAssertTrue(
            parallel.variants.contains { $0.comparison?.pValue != nil }, "the fixture has paired tests to compare")
    }

    func testVerdictsAndBestEpochRows() throws {
        let fixture = try StateDirectoryFixture.make()
        let report = try ReportBuilder.build(stateDirectory: fixture.state)
        XCTAssertEqual(report.sweep, "report-fixture")
        XCTAssertEqual(report.baseline, "base")
        XCTAssertEqual(report.classNames, ["SPLIT", "RECT", "AB"])
        XCTAssertEqual(report.cells.count, 9)
        XCTAssertEqual(report.warnings, [], "a clean sweep has no warnings")

        // Every column of a cell row comes from the best epoch; the last epoch is kept apart.
        for cell in report.cells {
            let best = try XCTUnwrap(fixture.best["\(cell.variant)/\(cell.seed)"])
            let last = try XCTUnwrap(fixture.last["\(cell.variant)/\(cell.seed)"])
            XCTAssertEqual(cell.bestEpoch, StateDirectoryFixture.bestEpoch)
            XCTAssertEqual(cell.best.epoch, StateDirectoryFixture.bestEpoch)
            XCTAssertEqual(cell.best.macroF1, best.macroF1, accuracy: 1e-12)
            XCTAssertEqual(cell.best.macroPrecision, best.macroPrecision, accuracy: 1e-12)
            XCTAssertEqual(cell.best.macroRecall, best.macroRecall, accuracy: 1e-12)
            XCTAssertEqual(cell.best.accuracy, best.accuracy, accuracy: 1e-12)
            XCTAssertEqual(cell.best.f1, best.f1)
            XCTAssertNotEqual(
                cell.best.macroPrecision, last.macroPrecision,
                "the fixture's epochs must differ for this check to mean anything")
            XCTAssertEqual(cell.last?.epoch, 5)
            XCTAssertEqual(try XCTUnwrap(cell.last?.macroPrecision), last.macroPrecision, accuracy: 1e-12)
            XCTAssertEqual(cell.workerHours, 0.5, accuracy: 1e-9)
            XCTAssertEqual(cell.trainableShare, 0.25)
            XCTAssertEqual(cell.provenance.host, "host-a")
            XCTAssertEqual(cell.provenance.codeVersion, "0.1.0")
            XCTAssertEqual(cell.history.count, 5)
        }

        let good = try XCTUnwrap(report.variants.first { $0.name == "good" }?.comparison)
        let same = try XCTUnwrap(report.variants.first { $0.name == "same" }?.comparison)
        XCTAssertEqual(good.verdict, .better)
        XCTAssertEqual(good.seedRule, .better)
        XCTAssertGreaterThan(try XCTUnwrap(good.interval?.lowPP), 0)
        XCTAssertLessThanOrEqual(try XCTUnwrap(good.pHolm), 0.05)
        XCTAssertEqual(same.verdict, .undecided, "3 seeds cannot show equivalence within ±1 pp here")
        // 1,200 rows: the row component alone keeps a ±1 pp equivalence out of reach, whatever the seeds.
        XCTAssertNil(same.seedsToDecide)
        XCTAssertTrue(same.sentence.hasPrefix("undecided: no number of seeds"), same.sentence)
        XCTAssertTrue(good.sentence.hasPrefix("better by"), good.sentence)
        // The verdict's interval holds both components; the row-level bootstrap and randomization are kept.
        let components = try XCTUnwrap(good.interval)
        XCTAssertEqual(components.perSeedDeltaPP.count, 3)
        XCTAssertEqual(components.rowVariance, pow(try XCTUnwrap(good.rowInterval?.sdPP), 2), accuracy: 1e-12)
        XCTAssertEqual(good.pValue, components.pValue)
        XCTAssertNotNil(good.rowPValue)
        XCTAssertGreaterThan(
            components.highPP - components.lowPP, try XCTUnwrap(good.rowInterval.map { $0.highPP - $0.lowPP }),
            "seed noise widens the row-only interval")
        XCTAssertEqual(good.pairedSeeds, [1, 2, 3])
        // Δ is the difference of the seeds' mean best-epoch macro-F1, in points.
        let mean = { (name: String) in
            [1, 2, 3].map { fixture.best["\(name)/\($0)"]?.macroF1 ?? .nan }.reduce(0, +) / 3
        }
        XCTAssertEqual(good.deltaPP, 100 * (mean("good") - mean("base")), accuracy: 1e-9)
        let interval = try XCTUnwrap(good.interval)
        XCTAssertTrue(interval.lowPP <= good.deltaPP && good.deltaPP <= interval.highPP)
        XCTAssertNil(report.variants.first { $0.name == "base" }?.comparison)
    }

    func testRenderersAgreeWithTheModel() throws {
        let fixture = try StateDirectoryFixture.make()
        let report = try ReportBuilder.build(stateDirectory: fixture.state)
        let markdown = MarkdownReport.render(report)
        for heading in ["## Overall", "## Per-class F1", "## Training details", "## Significance", "## Warnings"] {
            XCTAssertTrue(markdown.contains(heading), heading)
        }
        XCTAssertTrue(MarkdownReport.verdictTable(report).contains("**better**"))

        let csv = CSVReport.render(report).split(separator: "\n").map(String.init)
        let header = csv[0].split(separator: ",").map(String.init)
        XCTAssertEqual(csv.count, 1 + 9 + 3)
        let column = { (name: String) in try XCTUnwrap(header.firstIndex(of: name)) }
        let goodSeed2 = try XCTUnwrap(csv.first { $0.hasPrefix("cell,good,2,") }).split(
            separator: ",", omittingEmptySubsequences: false
        ).map(String.init)
        let best = try XCTUnwrap(fixture.best["good/2"])
        XCTAssertEqual(
            try XCTUnwrap(Double(goodSeed2[try column("val_macro_precision")])), best.macroPrecision, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Double(goodSeed2[try column("f1_RECT")])), best.f1[1], accuracy: 1e-12)
        XCTAssertEqual(goodSeed2[try column("best_epoch")], "3")

        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(JSONReport.render(report).utf8)) as? [String: Any])
        XCTAssertEqual(json["sweep"] as? String, "report-fixture")
        XCTAssertEqual(json["baseline"] as? String, "base")
        XCTAssertEqual(json["threshold_pp"] as? Double, 1.0)
        XCTAssertEqual((json["cells"] as? [Any])?.count, 9)
        let variants = try XCTUnwrap(json["variants"] as? [[String: Any]])
        let good = try XCTUnwrap(variants.first { $0["name"] as? String == "good" })
        for key in [
            "seeds", "macro_f1_mean", "macro_f1_sd", "delta_pp", "ci_low_pp", "ci_high_pp", "p_value", "p_holm",
            "verdict", "per_class",
            "per_seed_delta_pp", "seed_sd_pp", "row_se_pp", "df", "row_ci_low_pp", "row_ci_high_pp", "row_p_value",
            "p_seed_beats_baseline", "summary",
        ] {
            XCTAssertNotNil(good[key], key)
        }
        XCTAssertEqual(good["verdict"] as? String, "better")
        XCTAssertEqual((good["per_seed_delta_pp"] as? [Double])?.count, 3)
        XCTAssertEqual(
            header.filter {
                ["per_seed_delta_pp", "seed_sd_pp", "row_se_pp", "df", "row_p_value", "seeds_to_decide"].contains($0)
            }.count, 6)
        XCTAssertNotNil((good["per_class"] as? [String: Any])?["AB"])
        XCTAssertNotNil(json["warnings"] as? [Any])
    }

    func testUndeclaredConfigDifferenceIsWarned() throws {
        let fixture = try StateDirectoryFixture.make { variant, _, config in
            variant == "good"
                ? config.replacingOccurrences(of: "\"lr_head\":0.0001", with: "\"lr_head\":0.001") : config
        }
        let report = try ReportBuilder.build(stateDirectory: fixture.state)
        XCTAssertTrue(
            report.warnings.contains { $0.contains("good vs baseline base: lr_head: 0.001 vs 0.0001") },
            "\(report.warnings)")
    }

    func testFailedCellReasonIsAWarning() throws {
        let fixture = try StateDirectoryFixture.make()
        let ledger = try Ledger(directory: fixture.state)
        let planned = try ledger.plannedCells()
        var failed = CellRecord(
            id: ContentID.hex("good/4"), variant: "good", seed: 4, stage: "2", configJSON: "{}",
            position: planned.count, epochs: 5)
        _ = try ledger.addCells([failed])
        try ledger.setPlan(planned.map(\.id) + [failed.id])
        failed.state = .failed
        failed.reason = "diverged at epoch 2 (non-finite loss)"
        try ledger.update(failed)
        try ledger.close()
        let report = try ReportBuilder.build(stateDirectory: fixture.state)
        XCTAssertTrue(
            report.warnings.contains("good seed 4: failed: diverged at epoch 2 (non-finite loss)"), "\(report.warnings)"
        )
        XCTAssertTrue(MarkdownReport.render(report).contains("- good seed 4: failed: diverged at epoch 2"))
    }

    /// Predictions over the same number of rows whose labels differ name the first differing row, not "other rows".
    func testChangedValidationLabelIsNamedByRow() throws {
        let fixture = try StateDirectoryFixture.make()
        let path = "\(fixture.state)/\(ResultsWriter.relativeDirectory(variant: "good", seed: 2))/predictions.h5"
        let file = try H5File.open(path, writable: true)
        var labels = try file.dataset("labels").read(as: Int64.self)
        let original = labels[10]
        labels[10] = (labels[10] + 1) % Int64(StateDirectoryFixture.classes)
        try file.dataset("labels").write(labels)
        try file.close()
        let report = try ReportBuilder.build(stateDirectory: fixture.state)
        let expected =
            "good seed 2: predictions.h5 does not match the baseline's validation labels: row 10 is labelled \(labels[10]) here and \(original) in the baseline's"
        XCTAssertTrue(report.warnings.contains { $0.hasPrefix(expected) }, "\(report.warnings)")
    }

    func testBadInputIsOneLineError() throws {
        XCTAssertThrowsError(try ReportBuilder.build(stateDirectory: "/nonexistent/state")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/state: no such state directory")
        }
        let fixture = try StateDirectoryFixture.make()
        let empty = fixture.directory.path + "/empty"
        let ledger = try Ledger(directory: empty)
        _ = try ledger.beginRun(sweepName: "report-fixture", sweepText: StateDirectoryFixture.sweepText)
        try ledger.close()
        XCTAssertThrowsError(try ReportBuilder.build(stateDirectory: empty)) { error in
            XCTAssertTrue("\(error)".hasSuffix("no finished cells yet"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }
}
