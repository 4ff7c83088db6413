// MarkdownReport+Code: the report's code section — each command variant's code hash, git commit and dirty flag.
import CoordinatorKit

extension MarkdownReport {
    /// `## Code`: one row per variant whose cells have code (docs/report-format.md), the distinct values of its
    /// cells joined by ` / ` (cells that disagree are also a warning); empty when no cell has code.
    static func codeSection(_ report: SweepReport) -> String {
        let withCode = report.cells.filter { $0.provenance.code != nil }
        guard !withCode.isEmpty else { return "" }
        var out = "\n## Code\n\n"
        out +=
            "What each command variant ran: its files' content hash, the git commit and whether the files differed from it.\n\n"
        out += row(["Variant", "Code", "Commit", "Dirty", "Files"])
        out += rule(5)
        for variant in report.variants {
            let records = withCode.filter { $0.variant == variant.name }.compactMap(\.provenance.code)
            guard !records.isEmpty else { continue }
            func distinct(_ values: [String]) -> String {
                var seen: [String] = []
                for value in values where !seen.contains(value) { seen.append(value) }
                return seen.joined(separator: " / ")
            }
            out += row([
                variant.name,
                distinct(records.map { "`\($0.sha256.prefix(12))`" + ($0.assumed == true ? " (assumed)" : "") }),
                distinct(records.map { $0.commit.map { "`\($0.prefix(12))`" } ?? "—" }),
                distinct(records.map { $0.dirty.map { $0 ? "yes" : "no" } ?? "—" }),
                distinct(records.map { $0.files.map(\.path).joined(separator: ", ") }),
            ])
        }
        return out
    }
}
