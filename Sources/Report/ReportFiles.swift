// ReportFiles: writes a report in every format into the state directory (report.md, .csv, .json, .html, tidy CSVs).
import AblateSupport
import Foundation

/// The report files a coordinator keeps in its state directory.
public enum ReportFiles {
    /// File names, each with its renderer.
    public static let names: [(name: String, render: @Sendable (SweepReport) -> String)] = [
        ("report.md", MarkdownReport.render), ("report.csv", CSVReport.render), ("report.json", JSONReport.render),
        ("report.html", HTMLReport.render), ("cells.csv", { TidyExports.cells($0).csv }),
        ("variants.csv", { TidyExports.variants($0).csv }), ("epochs.csv", { TidyExports.epochs($0).csv }),
    ]

    /// Writes every format into `stateDirectory`, each file replaced atomically.
    public static func write(_ report: SweepReport, stateDirectory: String) throws {
        for (index, (name, render)) in names.enumerated() {
            if index == 1 { FaultPoint.shared.reach(.reportRefresh) }
            try AtomicFile.write(Array(render(report).utf8), to: "\(stateDirectory)/\(name)", overwrite: .replace)
        }
    }
}
