// SettingsDocsTests: docs/training.md holds the settings table exactly as the table renders it.
import Foundation
import Testing

@testable import RunSpec

@Suite struct SettingsDocsTests {
    @Test func trainingDocsHoldTheGeneratedTable() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/training.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let begin = try #require(text.range(of: SettingsDocs.begin), "docs/training.md lacks the settings section")
        let end = try #require(text.range(of: SettingsDocs.end, range: begin.upperBound..<text.endIndex))
        let held = text[begin.upperBound..<end.lowerBound].trimmingCharacters(in: .newlines)
        #expect(held == SettingsDocs.markdown(), "regenerate with `ablate settings --markdown`")
        for setting in SettingsTable.all {
            #expect(held.contains("| `\(setting.key)` |"), "\(setting.key)")
        }
    }
}
