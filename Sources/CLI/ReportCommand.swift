// ReportCommand: `ablate report`, a sweep's significance report from its state directory as Markdown, CSV, JSON or HTML.
import AblateSupport
import ArgumentParser
import Foundation
import ReportKit

/// The report formats `ablate report` writes.
enum ReportFormat: String, CaseIterable {
    case md, csv, json, html

    /// The rendered report.
    func render(_ report: SweepReport) -> String {
        switch self {
        case .md: MarkdownReport.render(report)
        case .csv: CSVReport.render(report)
        case .json: JSONReport.render(report)
        case .html: HTMLReport.render(report)
        }
    }
}

/// Reads a state directory (read-only, also while its coordinator runs) and writes the comparison with the
/// baseline: per-cell best-epoch metrics, per-variant spreads, paired bootstrap CIs, approximate-randomization
/// p-values with Holm's correction, verdicts and provenance warnings.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Judge a sweep: best-epoch tables, paired CIs, corrected p-values, verdicts, provenance warnings.",
        discussion:
            "Formats: md (tables to paste), csv (one row per cell and per variant), json (docs/report-format.md), html (one self-contained file with plots). --tables DIR also writes the tidy tables cells.csv, variants.csv and epochs.csv (typed columns, docs/report-format.md) for pandas or R."
    )

    @Option(help: "State directory of a coordinator.") var state: String
    @Option(name: [.short, .long], help: "Output format: md, csv, json or html.") var format = "md"
    @Option(name: [.short, .long], help: "Write to this file (atomically) instead of standard output.") var out: String?
    @Option(
        help: ArgumentHelp(
            "Also write cells.csv, variants.csv and epochs.csv (tidy, typed columns) into this directory.",
            valueName: "dir")) var tables: String?

    func run() throws {
        guard let format = ReportFormat(rawValue: format) else {
            throw RunFailure(message: "--format \(format): unknown format (expected md, csv, json or html)")
        }
        let report: SweepReport
        do { report = try ReportBuilder.build(stateDirectory: state) } catch { throw RunFailure(message: "\(error)") }
        if let tables { try writeTables(report, to: tables) }
        let text = format.render(report)
        guard let out else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        do {
            try OutputFile.write(to: out) { try AtomicFile.write(Array(text.utf8), to: out, overwrite: .replace) }
        } catch {
            throw RunFailure(message: "\(error)")
        }
    }

    /// Writes the tidy tables into `directory`, made with its parents when missing and removed again when a
    /// write fails (files already there are replaced one by one, atomically).
    private func writeTables(_ report: SweepReport, to directory: String) throws {
        do {
            let created = try Directories.create(directory)
            do {
                try TidyExports.write(report, directory: directory)
            } catch {
                if let created { try? FileManager.default.removeItem(atPath: created) }
                throw error
            }
        } catch {
            throw RunFailure(message: "--tables \(directory): \(error)")
        }
    }
}
