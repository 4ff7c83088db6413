// HTMLReport: the report as one self-contained HTML page — inline SVG plots and the Markdown report's tables.
import Foundation

/// Renders a `SweepReport` as a single HTML file: inline CSS and SVG, no scripts, nothing loaded from elsewhere.
public enum HTMLReport {
    /// The HTML text.
    public static func render(_ report: SweepReport) -> String {
        let title = "Sweep \(SVGPlots.escape(report.sweep)) — report"
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(title)</title>
            <style>
            body{font-family:sans-serif;margin:24px;max-width:1100px;color:#111;background:#fff}
            table{border-collapse:collapse;margin:8px 0 20px}th,td{border:1px solid #bbb;padding:3px 8px;text-align:right;white-space:nowrap}
            th{background:#eef}td:first-child,th:first-child{text-align:left}.warn{color:#a40}figure{margin:12px 0}
            </style></head><body>
            <h1>\(title)</h1>

            """
        out += "<h2>Plots</h2>\n"
        for figure in [
            SVGPlots.f1PerEpoch(report), SVGPlots.forest(report), SVGPlots.perClassDelta(report),
            SVGPlots.confusionMatrices(report),
        ] {
            out += "<figure>\(figure)</figure>\n"
        }
        out += tables(MarkdownReport.render(report))
        out += "</body></html>\n"
        return out
    }

    /// Converts the Markdown report (headings, pipe tables, bullet lists, paragraphs) to HTML; the
    /// bullets under `## Warnings` are styled as warnings.
    static func tables(_ markdown: String) -> String {
        var out = ""
        var inTable = false
        var header = true
        var inList = false
        var inWarnings = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("|") {
                if line.hasPrefix("|---") { continue }
                if !inTable { out += "<table>\n"; inTable = true; header = true }
                let cells = splitRow(line)
                let tag = header ? "th" : "td"
                out += "<tr>" + cells.map { "<\(tag)>\(inline($0))</\(tag)>" }.joined() + "</tr>\n"
                header = false
                continue
            }
            if inTable { out += "</table>\n"; inTable = false }
            if line.hasPrefix("- ") {
                if !inList { out += "<ul>\n"; inList = true }
                out += (inWarnings ? "<li class=\"warn\">" : "<li>") + "\(inline(String(line.dropFirst(2))))</li>\n"
                continue
            }
            if inList { out += "</ul>\n"; inList = false }
            if line.hasPrefix("## ") {
                inWarnings = line == "## Warnings"
                out += "<h2>\(inline(String(line.dropFirst(3))))</h2>\n"
            } else if line.hasPrefix("# ") {
                continue
            } else if !line.isEmpty {
                out += "<p>\(inline(line))</p>\n"
            }
        }
        if inTable { out += "</table>\n" }
        if inList { out += "</ul>\n" }
        return out
    }

    private static func splitRow(_ line: String) -> [String] {
        var cells: [String] = []
        var current = ""
        var escaped = false
        for character in line.dropFirst() {
            if escaped { current.append(character); escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if character == "|" { cells.append(current.trimmingCharacters(in: .whitespaces)); current = ""; continue }
            current.append(character)
        }
        return cells
    }

    /// Escapes text and turns `**bold**` and `` `code` `` into tags.
    private static func inline(_ text: String) -> String {
        var out = SVGPlots.escape(text)
        for (marker, tag) in [("**", "strong"), ("`", "code")] {
            var parts = out.components(separatedBy: marker)
            guard parts.count >= 3 else { continue }
            var joined = parts.removeFirst()
            for (index, part) in parts.enumerated() { joined += (index % 2 == 0 ? "<\(tag)>" : "</\(tag)>") + part }
            if parts.count % 2 == 1 { joined += "</\(tag)>" }
            out = joined
        }
        return out
    }
}
