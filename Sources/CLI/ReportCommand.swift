// ReportCommand: `ablate report`, a sweep's significance report from its state directory as Markdown, CSV, JSON or HTML.
import AblateSupport
import ArgumentParser
import CoordinatorKit
import Foundation
import ReportKit
import WireProtocol

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
            "Formats: md (tables to paste), csv (one row per cell and per variant), json (docs/report-format.md), html (one self-contained file with numbered figures). --tables DIR writes the tidy tables cells.csv, variants.csv and epochs.csv (typed columns) for pandas or R; --figures DIR writes each figure as a standalone SVG with the CSV of its data. Given without --format or --out, those options write only their files."
    )

    @Argument(help: "The sweep: with --connect, or with --state of a lab (docs/lab.md).") var name: String?
    @Option(help: "State directory of a coordinator (or of a lab, with the sweep's name).") var state: String?
    @Option(
        name: [.short, .long],
        help: "Endpoint of a running coordinator: fetch the report it keeps up to date for the sweep NAME.")
    var connect: String?
    @Option(help: "Seconds to wait for each answer with --connect.") var timeout = 30.0
    @OptionGroup var curve: CurveClientOptions
    @Option(name: [.short, .long], help: "Output format: md, csv, json or html (default md).") var format: String?
    @Option(name: [.short, .long], help: "Write to this file (atomically) instead of standard output.") var out: String?
    @Option(
        help: ArgumentHelp(
            "Write cells.csv, variants.csv and epochs.csv (tidy, typed columns) into this directory (made as needed).",
            valueName: "dir")) var tables: String?
    @Option(
        help: ArgumentHelp(
            "Write each figure as <name>.svg and <name>.csv into this directory (made as needed).",
            valueName: "dir")) var figures: String?

    func validate() throws {
        guard (state == nil) != (connect == nil) else {
            throw ValidationError("give exactly one of --state DIR and --connect ENDPOINT")
        }
        if let connect {
            try EndpointSyntax.check(connect, option: "--connect", bind: false)
            guard name != nil else {
                throw ValidationError("--connect needs the sweep's name: ablate report NAME --connect …")
            }
            if tables != nil || figures != nil {
                throw ValidationError("--tables and --figures read a state directory: use --state")
            }
            guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] seconds") }
        }
        if let name, let problem = PeerNames.nameProblem(name) { throw ValidationError("sweep name \(problem)") }
    }

    func run() throws {
        guard let format = ReportFormat(rawValue: format ?? "md") else {
            throw RunFailure(message: "--format \(format ?? ""): unknown format (expected md, csv, json or html)")
        }
        if let connect, let name { return try fetch(format, sweep: name, from: connect) }
        guard let given = state else { throw RunFailure(message: "give --state or --connect") }
        let chosen = try StateLayout.sweepState(given, name: name)
        guard let state = chosen.directory else {
            let served = chosen.names.isEmpty ? "none" : chosen.names.joined(separator: ", ")
            throw RunFailure(message: "\(given): a lab; name one of its sweeps (\(served))")
        }
        let report: SweepReport
        do { report = try ReportBuilder.build(stateDirectory: state) } catch { throw RunFailure(message: "\(error)") }
        var written: (paths: [String], created: String?) = ([], nil)
        if let figures {
            let drawn = SVGPlots.figures(report)
            do {
                written = try FigureFiles.write(drawn, to: figures)
            } catch {
                throw RunFailure(message: "--figures: \(error)")
            }
            for figure in drawn where figure.svgBody == nil {
                FileHandle.standardError.write(
                    Data("ablate report: \(figure.name) not drawn: \(figure.omission ?? "")\n".utf8))
            }
        }
        if let tables {
            do { try writeTables(report, to: tables) } catch {
                FigureFiles.undo(written.paths, created: written.created)
                throw error
            }
        }
        // Only the figures or tables were asked for.
        if figures != nil || tables != nil, self.format == nil, out == nil { return }
        let text = format.render(report)
        guard let out else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        do {
            try OutputFile.write(to: out) { try AtomicFile.write(Array(text.utf8), to: out, overwrite: .replace) }
        } catch {
            FigureFiles.undo(written.paths, created: written.created)
            throw RunFailure(message: "\(error)")
        }
    }

    /// The report the coordinator keeps refreshed for `sweep` (`report.<format>` in its directory), fetched over
    /// one connection (CONTROL `report`, then FETCH), written like a local one.
    private func fetch(_ format: ReportFormat, sweep: String, from endpoint: String) throws {
        guard let wire = ControlReportFormat(rawValue: format.rawValue) else {
            throw RunFailure(message: "--format \(format.rawValue): not served over --connect")
        }
        let client = try SubmitClient(endpoint: endpoint, timeoutMs: Int(timeout * 1000), curve: try curve.keys())
        let reply = try client.control(
            ControlRequest(requestId: ControlClient.newRequestID(), sweep: sweep, action: .report, format: wire))
        guard reply.ok, let file = reply.result?.report else {
            throw RunFailure(message: PrintableText.oneLine(reply.error ?? "the coordinator sent no report"))
        }
        let bytes = try client.download(file, chunkBytes: FrameLimits.defaultChunkBytes)
        guard let out else {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        do {
            try OutputFile.write(to: out) { try AtomicFile.write(bytes, to: out, overwrite: .replace) }
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
