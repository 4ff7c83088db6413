// HTMLReport: the report as one self-contained HTML page — numbered figures with captions and the Markdown report's tables.
import Foundation

/// Renders a `SweepReport` as a single HTML file: inline CSS and SVG, no scripts, nothing loaded from elsewhere.
public enum HTMLReport {
    /// The HTML text.
    public static func render(_ report: SweepReport) -> String {
        let title = "Sweep \(SVGPlots.escape(report.sweep)) — report"
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title)</title>
            <style>
            \(style)
            </style></head><body>
            <h1>\(title)</h1>

            """
        let figures = SVGPlots.figures(report)
        for section in SVGPlots.sections {
            out += "<h2>Figures: \(SVGPlots.escape(section.title))</h2>\n"
            for figure in figures where section.figures.contains(figure.name) { out += figure.html }
        }
        out += tables(MarkdownReport.render(report))
        out += "</body></html>\n"
        return out
    }

    /// The page's CSS: tables scroll inside their box and figures shrink to the page, so the page itself never
    /// scrolls sideways; long codes (cell ids, hashes) wrap.
    static let style = """
        body{font-family:sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#111;background:#fff}
        .table{overflow-x:auto;max-width:100%;margin:8px 0 20px}
        table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:3px 8px;text-align:right;white-space:nowrap}
        th{background:#eef}td:first-child,th:first-child{text-align:left}.warn{color:#a40}
        td code{white-space:normal;overflow-wrap:anywhere}p,li{overflow-wrap:anywhere}
        figure{margin:12px 0 28px;max-width:100%}figure svg{display:block;max-width:100%;height:auto}
        figcaption{font-size:14px;line-height:1.45;max-width:900px;margin-top:6px}.omitted{color:#555;font-style:italic}
        """

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
                if !inTable { out += "<div class=\"table\"><table>\n"; inTable = true; header = true }
                let cells = splitRow(line)
                let tag = header ? "th" : "td"
                out += "<tr>" + cells.map { "<\(tag)>\(inline($0))</\(tag)>" }.joined() + "</tr>\n"
                header = false
                continue
            }
            if inTable { out += "</table></div>\n"; inTable = false }
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
        if inTable { out += "</table></div>\n" }
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
