// FinalReport: the verdict table printed when a sweep ends (`ablate local`, `ablate coordinator`).
import ReportKit

/// Builds the report from the state directory, rewrites its files (report.md, .csv, .json, .html) beside the
/// ledger and returns the Markdown verdict table with where the files are; a report that cannot be built is one
/// line saying why (the sweep's results stay in the ledger and `runs/`). `cache`: the paired tests the running
/// sweep's report refreshes computed.
enum FinalReport {
    static func text(stateDirectory: String, cache: PairedTestCache? = nil) -> String {
        do {
            let report = try ReportBuilder.build(stateDirectory: stateDirectory, cache: cache)
            try ReportFiles.write(report, stateDirectory: stateDirectory)
            return MarkdownReport.verdictTable(report) + "\nreport: \(stateDirectory)/report.{md,csv,json,html}"
        } catch {
            return "report: \(error)"
        }
    }
}
