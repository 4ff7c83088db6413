// CodeProvenanceReportTests: a command cell's code in the report — the Code section, report.json, and warnings within a variant.
import CoordinatorKit
import Foundation
import ReportKit
import XCTest

final class CodeProvenanceReportTests: XCTestCase {
    static func code(_ digit: String, dirty: Bool? = false) -> CodeRecord {
        CodeRecord(
            files: [CodeFile(path: "train.py", sha256: String(repeating: digit, count: 64))],
            commit: String(repeating: "c", count: 40), dirty: dirty)
    }

    private func record(_ variant: String, seed: UInt64, code: CodeRecord?) -> ProvenanceRecord {
        var provenance = CellProvenance(
            configSHA256: "", datasetSHA256: nil, stage1SHA256: nil, codeVersion: "0.1.0", worker: "w", host: "h",
            blasCore: nil, blasThreads: nil)
        provenance.code = code
        return ProvenanceRecord(
            variant: variant, seed: seed, configJSON: "{\"seed\":\(seed),\"stage\":\"2\"}", provenance: provenance)
    }

    func testCellsOfOneVariantWithOtherCodeAreWarnedButOtherVariantsCodeIsNot() {
        let one = Self.code("1")
        let two = Self.code("2")
        let warnings = Provenance.warnings(
            records: [
                record("base", seed: 1, code: one), record("base", seed: 2, code: one),
                record("poly", seed: 1, code: one), record("poly", seed: 2, code: two),
                record("other", seed: 1, code: two), record("other", seed: 2, code: nil),
            ],
            baseline: "base", variants: ["base", "poly", "other"], declared: [:])
        XCTAssertEqual(
            warnings,
            [
                "poly: its cells differ in code: \(one.sha256.prefix(12)) (seed 1) vs \(two.sha256.prefix(12)) (seed 2)"
            ], "unknown code is not different, and a variant's code may differ from the baseline's")
    }

    func testTheMarkdownAndJSONReportsShowTheCode() throws {
        let fixture = try StateDirectoryFixture.make()
        let before = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        XCTAssertFalse(MarkdownReport.render(before).contains("## Code"), "no cell has code")
        let code = Self.code("1", dirty: true)
        let ledger = try Ledger(directory: fixture.state)
        let baselineCells = try ledger.cells().filter { $0.variant == before.baseline }
        XCTAssertFalse(baselineCells.isEmpty)
        try ledger.setCode(Dictionary(uniqueKeysWithValues: baselineCells.map { ($0.id, code) }))
        try ledger.close()
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        let markdown = MarkdownReport.render(report)
        XCTAssertTrue(markdown.contains("## Code"), markdown)
        XCTAssertTrue(
            markdown.contains("| \(report.baseline) | `\(code.sha256.prefix(12))` | `cccccccccccc` | yes | train.py |"),
            markdown)
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(JSONReport.render(report).utf8)) as? [String: Any])
        let cells = try XCTUnwrap(json["cells"] as? [[String: Any]])
        let withCode = cells.compactMap { ($0["provenance"] as? [String: Any])?["code"] as? [String: Any] }
        XCTAssertEqual(withCode.count, report.cells.filter { $0.variant == report.baseline }.count)
        XCTAssertEqual(withCode.first?["sha256"] as? String, code.sha256)
        XCTAssertEqual(withCode.first?["dirty"] as? Bool, true)
        XCTAssertEqual(
            (withCode.first?["files"] as? [[String: Any]])?.first?["path"] as? String, "train.py")
        let without = cells.first { $0["variant"] as? String != report.baseline }
        XCTAssertTrue((without?["provenance"] as? [String: Any])?["code"] is NSNull)
    }
}
