// FigureTests: the report's figures — nice ticks, one colour per variant, captions, confusion percentages, metric goal.
import Foundation
import TestSupport
import XCTest

@testable import ReportKit

#if canImport(FoundationXML)
    import FoundationXML
#endif

final class FigureTests: XCTestCase {
    /// Every axis covers its values, steps by 1, 2 or 5 × 10^k, and labels negatives (the per-class Δ axis once
    /// stopped at 0 while bars reached −4).
    func testTicksCoverTheDataWithNiceSteps() {
        let cases: [[Double]] = [
            [-4.2, 5.1], [0.12, 0.87], [61.3, 73.9], [-0.003, 0.0021], [1, 30], [-250, -12], [7, 7], [0, 0], [],
        ]
        for values in cases {
            let axis = FigureAxis(covering: values)
            let finite = values.isEmpty ? [0, 1] : values
            XCTAssertLessThanOrEqual(axis.low, finite.min() ?? 0, "\(values)")
            XCTAssertGreaterThanOrEqual(axis.high, finite.max() ?? 1, "\(values)")
            XCTAssertEqual(axis.ticks.first ?? .nan, axis.low, accuracy: 1e-9 * max(1, abs(axis.low)), "\(values)")
            XCTAssertEqual(axis.ticks.last ?? .nan, axis.high, accuracy: 1e-9 * max(1, abs(axis.high)), "\(values)")
            XCTAssertGreaterThanOrEqual(axis.ticks.count, 3, "\(values): \(axis.ticks)")
            XCTAssertLessThanOrEqual(axis.ticks.count, 12, "\(values): \(axis.ticks)")
            let mantissa = axis.step / pow(10, log10(axis.step).rounded(.down))
            XCTAssertTrue([1, 2, 5].contains { abs($0 - mantissa) < 1e-9 }, "\(values): step \(axis.step)")
            for (a, b) in zip(axis.ticks, axis.ticks.dropFirst()) {
                XCTAssertEqual(b - a, axis.step, accuracy: 1e-9 * axis.step)
            }
        }
        let perClass = FigureAxis(symmetricCovering: [-4.0, 2.5, 0.3])
        XCTAssertEqual(perClass.low, -perClass.high)
        XCTAssertLessThanOrEqual(perClass.low, -4)
        XCTAssertTrue(perClass.ticks.contains(0))
        XCTAssertGreaterThanOrEqual(perClass.ticks.filter { $0 < 0 }.count, 2, "\(perClass.ticks)")
        XCTAssertEqual(perClass.label(-4), "−4")
        XCTAssertEqual(FigureAxis(covering: [0, 0.25]).label(0.05), "0.05")
        XCTAssertEqual(FigureAxis.niceStep(0.7), 1)
        XCTAssertEqual(FigureAxis.niceStep(1.3), 2)
        XCTAssertEqual(FigureAxis.niceStep(3), 5)
        XCTAssertEqual(FigureAxis.niceStep(0.031), 0.05, accuracy: 1e-15)
        let epochs = FigureAxis(covering: [1, 3], count: 8, minimumStep: 1)
        XCTAssertEqual(epochs.step, 1, "whole epochs")
    }

    func testLogAxisSpansWholeDecades() {
        let axis = FigureAxis(logCovering: [1e-5, 3e-3])
        XCTAssertTrue(axis.isLog)
        XCTAssertEqual(axis.low, 1e-5, accuracy: 1e-20)
        XCTAssertEqual(axis.high, 1e-2, accuracy: 1e-15)
        XCTAssertEqual(axis.ticks.count, 4)
        XCTAssertEqual(axis.fraction(1e-5) ?? .nan, 0, accuracy: 1e-12)
        XCTAssertEqual(axis.fraction(1e-2) ?? .nan, 1, accuracy: 1e-12)
        XCTAssertNil(axis.fraction(0))
        XCTAssertEqual(axis.label(1e-5), "1e-5")
        XCTAssertEqual(axis.label(0.001), "0.001")
        XCTAssertTrue(FigureAxis.wantsLog([1e-4, 1e-2]))
        XCTAssertFalse(FigureAxis.wantsLog([1e-3, 5e-3]))
        XCTAssertFalse(FigureAxis.wantsLog([0, 1e-2]), "a zero rate cannot go on a log axis")
    }

    /// A variant has one colour in every figure that draws it, different variants different colours, and no
    /// figure recolours by verdict.
    func testEachVariantHasOneColourInEveryFigure() throws {
        let fixture = try StateDirectoryFixture.make()
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let figures = SVGPlots.figures(report)
        let colours = report.variants.map { SVGPlots.colour(of: $0.name, in: report) }
        XCTAssertEqual(Set(colours).count, colours.count, "\(colours)")
        for figure in figures {
            let svg = try XCTUnwrap(figure.svg, "\(figure.name): \(figure.omission ?? "")")
            for variant in report.variants {
                let drawn = variant.isBaseline ? !["forest", "per-class-delta"].contains(figure.name) : true
                guard drawn else { continue }
                let colour = SVGPlots.colour(of: variant.name, in: report)
                XCTAssertTrue(svg.contains(colour), "\(figure.name) draws \(variant.name) in \(colour)")
            }
            for other in ["#2ca02c", "#d62728", "#9467bd", "#1f77b4"] {
                XCTAssertFalse(svg.contains(other), "\(figure.name) uses the old verdict colour \(other)")
            }
        }
    }

    /// Each drawn figure has a number, a visible caption in the page, and a standalone SVG with its caption as
    /// title and desc; the learning curves draw one thin line per cell and one mean per variant per panel.
    func testEveryFigureHasAVisibleCaption() throws {
        let fixture = try StateDirectoryFixture.make()
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let figures = SVGPlots.figures(report)
        XCTAssertEqual(
            figures.map(\.name), ["learning-curves", "learning-rate", "forest", "per-class-delta", "confusion"])
        XCTAssertEqual(figures.map(\.number), [1, 2, 3, 4, 5])
        let html = HTMLReport.render(report)
        XCTAssertEqual(html.components(separatedBy: "<figcaption>").count - 1, 5)
        XCTAssertFalse(html.contains("<h2>Plots</h2>"))
        for figure in figures {
            XCTAssertGreaterThan(figure.caption.count, 80, figure.name)
            XCTAssertTrue(html.contains("<strong>Figure \(figure.number). "), figure.name)
            let svg = try XCTUnwrap(figure.standaloneSVG)
            XCTAssertTrue(svg.hasPrefix("<?xml"))
            XCTAssertTrue(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""))
            XCTAssertTrue(svg.contains("viewBox=\"0 0 "))
            XCTAssertTrue(svg.contains("<desc>"), figure.name)
            XCTAssertNoThrow(try XMLDocument(data: Data(svg.utf8)), figure.name)
        }
        let curves = try XCTUnwrap(figures.first?.svg)
        let panels = 4  // val_macro_f1, train_macro_f1, train_loss, val_loss
        XCTAssertEqual(curves.components(separatedBy: "<polyline").count - 1, panels * (9 + 3), "9 cells + 3 means")
        XCTAssertTrue(figures[0].caption.contains("thin lines, one per cell"))
        XCTAssertTrue(figures[2].caption.contains("95 % interval"), figures[2].caption)
        XCTAssertTrue(figures[2].caption.contains("Dashed lines and grey band: the threshold ±1.0 pp"))
    }

    /// Each row of a confusion matrix sums to 100 %, in the figure's CSV too, and the CSV's counts are the cells'.
    func testConfusionRowsArePercentagesOfTheTrueClass() throws {
        XCTAssertEqual(ConfusionFigure.rowPercentages([[3, 1], [0, 0]]), [[75, 25], [0, 0]])
        let fixture = try StateDirectoryFixture.make()
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let figure = try XCTUnwrap(SVGPlots.figures(report).first { $0.name == "confusion" })
        let rows = figure.csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.first?.joined(separator: ","), "variant,true,predicted,count,row_percent")
        XCTAssertEqual(rows.count - 1, 3 * 3 * 3)
        var sums: [String: Double] = [:]
        var counts: [String: Int] = [:]
        for row in rows.dropFirst() {
            sums["\(row[0])/\(row[1])", default: 0] += Double(row[4]) ?? .nan
            counts[String(row[0]), default: 0] += Int(row[3]) ?? -1
        }
        for (key, sum) in sums { XCTAssertEqual(sum, 100, accuracy: 1e-9, key) }
        for variant in ["base", "good", "same"] {
            let expected = report.cells.filter { $0.variant == variant }.map { $0.best.confusion.joined().reduce(0, +) }
            XCTAssertEqual(counts[variant], expected.reduce(0, +), variant)
        }
        let svg = try XCTUnwrap(figure.svg)
        XCTAssertTrue(svg.contains(">true</text>") && svg.contains(">predicted</text>"))
        XCTAssertTrue(svg.contains(" %</text>"))
    }

    /// Command cells without per-class F1 or confusion matrices leave those figures out with a reason; nothing
    /// crashes on their missing values.
    func testCommandCellsLeaveOutWhatTheyDoNotRecord() throws {
        let fixture = try StateDirectoryFixture.make(command: true)
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let figures = SVGPlots.figures(report)
        let byName = Dictionary(uniqueKeysWithValues: figures.map { ($0.name, $0) })
        XCTAssertNotNil(byName["learning-curves"]?.svg)
        XCTAssertNotNil(byName["forest"]?.svg)
        XCTAssertNil(byName["per-class-delta"]?.svg)
        XCTAssertNil(byName["confusion"]?.svg)
        XCTAssertTrue(byName["confusion"]?.omission?.contains("confusion matrix") ?? false)
        let html = HTMLReport.render(report)
        XCTAssertTrue(html.contains("not drawn — "))
        XCTAssertFalse(html.contains("NaN") || html.contains("nan"))
    }

    /// A lower-is-better metric: the curves name it with its unit and goal, the forest plot points "better" to the
    /// left and its caption says a negative Δ is better.
    func testLowerIsBetterMetricIsLabelledByItsGoal() throws {
        let directory = try MetricGoalReportTests.make(
            metric: #"{name: val_bd_rate, goal: min, unit: "%", threshold: 0.5}"#)
        let report = try ReportBuilder.build(stateDirectory: directory.path + "/state", now: 1_800_000_000)
        let figures = SVGPlots.figures(report)
        let curves = try XCTUnwrap(figures.first { $0.name == "learning-curves" }?.svg)
        XCTAssertTrue(curves.contains(">val_bd_rate (%)</text>"), "y axis title with unit")
        XCTAssertTrue(curves.contains("val_bd_rate, validation (lower is better)"))
        let forest = try XCTUnwrap(figures.first { $0.name == "forest" })
        let svg = try XCTUnwrap(forest.svg)
        XCTAssertTrue(svg.contains("← variant better"))
        XCTAssertFalse(svg.contains("variant better →"))
        XCTAssertTrue(svg.contains("Δ val_bd_rate vs base (%)"))
        XCTAssertTrue(forest.caption.contains("lower is better, so a negative Δ means the variant is better"))
        XCTAssertTrue(forest.csv.contains("lower,better,"), forest.csv)
        XCTAssertTrue(svg.contains("<polygon"), "the ▲ marker of a better verdict")
    }
}
