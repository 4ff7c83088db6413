// FinalReport: the verdict table printed when a sweep ends (`ablate local`, `ablate coordinator`).
import CoordinatorKit
import ReportKit

/// Builds the report from the state directory, rewrites its files (report.md, .csv, .json, .html) beside the
/// ledger and returns the Markdown verdict table with where the files are; a report that cannot be built is one
/// line saying why (the sweep's results stay in the ledger and `runs/`). Either way, each failed cell follows
/// with its reason unless `listFailures` is false (`ablate local` lists them under its status table).
/// `cache`: the paired tests the running sweep's report refreshes computed.
enum FinalReport {
    static func text(stateDirectory: String, cache: PairedTestCache? = nil, listFailures: Bool = true) -> String {
        let table: String
        do {
            let report = try ReportBuilder.build(stateDirectory: stateDirectory, cache: cache)
            try ReportFiles.write(report, stateDirectory: stateDirectory)
            table =
                MarkdownReport.verdictTable(report)
                + "\nreport: \(stateDirectory)/report.{md,csv,json,html}; tables: \(stateDirectory)/{cells,variants,epochs}.csv"
        } catch {
            table = "report: \(error)"
        }
        return ([table] + (listFailures ? failures(stateDirectory: stateDirectory) : [])).joined(separator: "\n")
    }

    /// `failed: VARIANT seed N: REASON` for each failed cell of the plan, from the ledger.
    static func failures(stateDirectory: String) -> [String] {
        guard let ledger = try? Ledger(readingDirectory: stateDirectory) else { return [] }
        defer { try? ledger.close() }
        let cells = (try? ledger.plannedCells()) ?? []
        return cells.filter { $0.state == .failed }.map {
            "failed: \($0.variant) seed \($0.seed): \($0.reason ?? "no reason recorded")"
        }
    }
}
