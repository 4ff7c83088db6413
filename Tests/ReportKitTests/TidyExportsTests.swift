// TidyExportsTests: cells.csv, variants.csv and epochs.csv — one row per observation, typed columns read back by Python.
import AblateSupport
import CoordinatorKit
import Foundation
import ReportKit
import TestSupport
import XCTest

final class TidyExportsTests: XCTestCase {
    /// A native sweep: one cells.csv row per cell with its settings as typed columns, the variants' comparisons in
    /// points (`_pp`), and epochs.csv in long form with every recorded number; the values are the report's.
    func testNativeSweepTablesHoldTheReportsValues() throws {
        let fixture = try StateDirectoryFixture.make()
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let cells = TidyExports.cells(report)
        XCTAssertEqual(cells.rows.count, 9)
        XCTAssertEqual(cells.mismatches, [])
        let types = Dictionary(uniqueKeysWithValues: cells.columns.map { ($0.name, $0.type) })
        XCTAssertEqual(types["setting_loss"], .text)
        XCTAssertEqual(types["setting_width"], .integer)
        XCTAssertEqual(types["setting_lr_head"], .float)
        XCTAssertEqual(types["setting_adapter_layers"], .text, "a list is its JSON text")
        XCTAssertNil(types["setting_seed"], "the seed has its own column")
        XCTAssertEqual(types["f1_\(report.classNames[0])"], .float)
        let parsed = Self.parse(cells.csv)
        XCTAssertEqual(parsed.count, 10)
        let header = parsed[0]
        for (row, cell) in zip(parsed.dropFirst(), report.cells) {
            let field = { (name: String) in row[header.firstIndex(of: name) ?? 0] }
            XCTAssertEqual(field("variant"), cell.variant)
            XCTAssertEqual(field("seed"), String(cell.seed))
            XCTAssertEqual(Double(field("val_macro_f1")), cell.best.macroF1, "a fraction, as recorded")
            XCTAssertEqual(field("early_stopped"), "false")
            XCTAssertEqual(field("setting_loss"), ["base": "cb_focal", "good": "poly", "same": "focal"][cell.variant])
        }

        let variants = TidyExports.variants(report)
        XCTAssertEqual(variants.mismatches, [])
        XCTAssertEqual(variants.rows.count, 3)
        let good = try XCTUnwrap(variants.rows.first { $0["variant"] == .text("good") })
        let comparison = try XCTUnwrap(report.variants.first { $0.name == "good" }?.comparison)
        XCTAssertEqual(good["delta_pp"], .float(comparison.deltaPP))
        XCTAssertEqual(good["verdict"], .text(comparison.verdict.rawValue))
        XCTAssertEqual(good["seed_list"], .text("1 2 3"))
        XCTAssertEqual(good["setting_loss"], .text("poly"), "a setting all of the variant's cells share")
        XCTAssertNil(good["delta"], "differences in points are named _pp")
        let base = try XCTUnwrap(variants.rows.first { $0["variant"] == .text("base") })
        XCTAssertEqual(base["verdict"], .text("baseline"))
        XCTAssertEqual(base["is_baseline"], .boolean(true))

        let epochs = TidyExports.epochs(report)
        XCTAssertEqual(epochs.mismatches, [])
        XCTAssertEqual(epochs.rows.count, 9 * 5, "one row per cell × epoch")
        let names = Set(epochs.columns.map(\.name))
        for name in ["val_macro_f1", "val_loss", "val_accuracy", "seconds"] {
            XCTAssertTrue(names.contains(name), "\(name) in \(names.sorted())")
        }
        XCTAssertFalse(names.contains("is_best"), "a boolean is not a metric")
        for cell in report.cells {
            let rows = epochs.rows.filter { $0["cell_id"] == .text(cell.cellID) }
            XCTAssertEqual(rows.filter { $0["is_best_epoch"] == .boolean(true) }.map { $0["epoch"] }, [.integer(3)])
            let best = try XCTUnwrap(rows.first { $0["epoch"] == .integer(3) })
            guard case .float(let f1) = best["val_macro_f1"] else { return XCTFail("no val_macro_f1 in \(best)") }
            XCTAssertEqual(f1, cell.best.macroF1, accuracy: 1e-12, "the record's value (summary.json may round apart)")
        }
        try Self.readWithPython([cells, variants, epochs])
    }

    /// Command cells judged on a lower-is-better metric in %: the differences are not points, so their columns
    /// have no `_pp`; the metric's own values are in `metric_value` and epochs.csv has a column for it.
    func testOtherUnitDropsThePointsSuffixAndKeepsTheMetricPerEpoch() throws {
        let directory = try MetricGoalReportTests.make(
            metric: #"{name: val_bd_rate, goal: min, unit: "%", threshold: 0.5}"#)
        let report = try ReportBuilder.build(stateDirectory: directory.path + "/state", now: 1_800_000_000)
        let variants = TidyExports.variants(report)
        let lower = try XCTUnwrap(variants.rows.first { $0["variant"] == .text("lower") })
        let comparison = try XCTUnwrap(report.variants.first { $0.name == "lower" }?.comparison)
        XCTAssertEqual(lower["delta"], .float(comparison.deltaPP))
        XCTAssertEqual(lower["metric_unit"], .text("%"))
        XCTAssertEqual(lower["threshold"], .float(0.5))
        XCTAssertFalse(variants.columns.contains { $0.name == "delta_pp" })
        let cells = TidyExports.cells(report)
        for row in cells.rows {
            let cell = try XCTUnwrap(report.cells.first { .text($0.cellID) == row["cell_id"] })
            XCTAssertEqual(row["metric_value"], .float(cell.metric))
            XCTAssertEqual(row["metric_goal"], .text("min"))
        }
        let epochs = TidyExports.epochs(report)
        XCTAssertEqual(epochs.rows.count, 6 * 3)
        for row in epochs.rows {
            let cell = try XCTUnwrap(report.cells.first { .text($0.cellID) == row["cell_id"] })
            guard case .integer(let epoch) = row["epoch"] else { return XCTFail("no epoch in \(row)") }
            XCTAssertEqual(row["val_bd_rate"], .float(MetricGoalReportTests.values(cell.variant, cell.seed)[epoch - 1]))
        }
        try Self.readWithPython([cells, variants, epochs])
    }

    /// The three files are written into an existing directory (and only them); a missing directory is an error.
    func testWriteMakesTheThreeFiles() throws {
        let fixture = try StateDirectoryFixture.make()
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let out = fixture.directory.file("tables")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try TidyExports.write(report, directory: out)
        for name in ["cells.csv", "variants.csv", "epochs.csv"] {
            let text = try String(contentsOfFile: "\(out)/\(name)", encoding: .utf8)
            XCTAssertTrue(text.hasSuffix("\n"))
        }
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: out).sorted(),
            ["cells.csv", "epochs.csv", "variants.csv"])
        XCTAssertThrowsError(try TidyExports.write(report, directory: fixture.directory.file("missing")))
    }

    /// A tiny RFC 4180 reader (quotes, doubled quotes, commas inside quotes), for checking fields in Swift.
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = Array(text).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else {
                field.append(c)
            }
        }
        return rows
    }

    /// Reads each table with Python's `csv` module and converts every non-empty field by its column's declared type
    /// (int, float, `true`/`false`, text); fails with Python's message on the first field that does not convert, a
    /// row of another width or a header other than the columns. Skipped where python3 is missing.
    static func readWithPython(_ tables: [TidyTable], file: StaticString = #filePath, line: UInt = #line) throws {
        guard Python.canImport("csv") else { throw XCTSkip("python3 is not installed; the csv type check is skipped") }
        let directory = TemporaryDirectory("ablate-tidy")
        var specs: [[String: Any]] = []
        for (index, table) in tables.enumerated() {
            let path = directory.file("t\(index).csv")
            try Array(table.csv.utf8).write(to: path)
            specs.append([
                "path": path, "columns": table.columns.map(\.name), "types": table.columns.map(\.type.rawValue),
                "rows": table.rows.count,
            ])
        }
        let spec = String(decoding: try JSONSerialization.data(withJSONObject: specs), as: UTF8.self)
        let script = """
            import csv, json, sys
            convert = {"integer": int, "float": float, "text": str,
                       "boolean": lambda v: {"true": True, "false": False}[v]}
            for spec in json.loads(sys.argv[1]):
                with open(spec["path"], newline="") as f:
                    rows = list(csv.reader(f))
                assert rows[0] == spec["columns"], (spec["path"], rows[0])
                assert len(rows) - 1 == spec["rows"], (spec["path"], len(rows))
                for number, row in enumerate(rows[1:], 2):
                    assert len(row) == len(rows[0]), (spec["path"], number, len(row))
                    for name, kind, value in zip(rows[0], spec["types"], row):
                        if value != "":
                            try:
                                convert[kind](value)
                            except (ValueError, KeyError):
                                sys.exit("%s line %d column %s: %r is not %s" % (spec["path"], number, name, value, kind))
            print("ok")
            """
        let result = try Python.run(["-c", script, spec])
        XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "ok", file: file, line: line)
    }
}

/// docs/report-format.md names every fixed column of the three tables.
final class TidyExportsDocumentationTests: XCTestCase {
    func testEveryFixedColumnIsDocumented() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/report-format.md").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let section = try XCTUnwrap(text.components(separatedBy: "## Tidy tables").dropFirst().first)
        let columns = TidyExports.cellColumns + TidyExports.variantColumns(SweepMetric()) + TidyExports.epochColumns
        for column in columns {
            XCTAssertTrue(section.contains("`\(column.name)`"), "\(column.name) is not in the tidy tables' section")
        }
    }
}
