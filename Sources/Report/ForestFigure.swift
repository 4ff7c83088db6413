// ForestFigure: each variant's Δ against the baseline with its interval, the zero line and the ±threshold lines.
import Foundation

/// A forest plot: one row per compared variant, Δ (variant − baseline, in the metric's unit) as a marker whose shape
/// is the verdict, the seed-and-row interval as a line, both in the variant's colour.
enum ForestFigure {
    static let name = "forest"
    static let title = "Difference from the baseline"

    static func make(_ report: SweepReport, palette: FigurePalette) -> ReportFigure {
        let metric = report.significance.metric
        let t = report.significance.threshold
        let compared = report.variants.filter { !$0.isBaseline }.compactMap { v in v.comparison.map { (v.name, $0) } }
        let header = "variant,verdict,delta,low,high,level,seeds_paired,rows_tested,threshold,unit"
        guard !compared.isEmpty else {
            return .omitted(
                name, title: title, because: "no variant has a seed paired with the baseline yet", header: header)
        }
        var values = [t, -t, 0]
        for (_, c) in compared {
            values += [c.deltaPP, c.interval?.lowPP ?? c.deltaPP, c.interval?.highPP ?? c.deltaPP]
        }
        let axis = FigureAxis(covering: values, count: 6)
        let rowHeight = 34.0
        let plot = FigurePanel(
            left: 180, top: 40, width: 460, height: rowHeight * Double(compared.count), x: axis,
            y: FigureAxis(covering: [0, 1]))
        var body = ""
        if let low = plot.px(-t), let high = plot.px(t) {
            body +=
                "<rect x=\"\(SVG.n(low))\" y=\"\(SVG.n(plot.top))\" width=\"\(SVG.n(high - low))\" height=\"\(SVG.n(plot.height))\" fill=\"#ececec\"/>"
        }
        for tick in axis.ticks {
            guard let column = plot.px(tick) else { continue }
            body += SVG.line(column, plot.bottom, column, plot.bottom + 4, stroke: "#000")
            body += SVG.text(column, plot.bottom + 16, axis.label(tick), anchor: "middle", size: 11)
        }
        body += SVG.line(plot.left, plot.bottom, plot.right, plot.bottom, stroke: "#000")
        body += plot.verticalLine(0, stroke: "#000", width: 1.2)
        body += plot.verticalLine(t, stroke: "#555", dash: "6,4")
        body += plot.verticalLine(-t, stroke: "#555", dash: "6,4")
        let shownT = ReportFormatting.threshold(t, scale: metric.scale)
        let unit = metric.unit
        body += SVG.text(plot.px(t).map { $0 + 3 } ?? plot.right, plot.top - 6, "+\(shownT)", size: 10, fill: "#555")
        body += SVG.text(
            plot.px(-t).map { $0 - 3 } ?? plot.left, plot.top - 6, "−\(shownT)", anchor: "end", size: 10, fill: "#555")
        let better = metric.goal == .max ? "variant better →" : "← variant better"
        body += SVG.text(
            metric.goal == .max ? plot.right : plot.left, plot.top - 22, better,
            anchor: metric.goal == .max ? "end" : "start",
            size: 11, weight: "bold")
        body += SVG.text(
            plot.left + plot.width / 2, plot.bottom + 36, "Δ \(metric.name) vs \(report.baseline) (\(unit))",
            anchor: "middle", size: 12)
        var csv = FigureCSV.line(header.split(separator: ",").map(String.init))
        for (index, item) in compared.enumerated() {
            let (variant, c) = item
            let row = plot.top + rowHeight * (Double(index) + 0.5)
            let colour = palette.colour(variant)
            body += SVG.text(plot.left - 10, row + 4, palette.label(variant), anchor: "end", size: 12)
            // The variant's colour key beside its name (about 7 px a character at 12 px).
            let keyEnd = max(20, plot.left - 20 - 7.4 * Double(palette.label(variant).count))
            body += SVG.line(keyEnd - 16, row, keyEnd, row, stroke: colour, width: 3)
            if let interval = c.interval, let low = plot.px(interval.lowPP), let high = plot.px(interval.highPP) {
                body += SVG.line(low, row, high, row, stroke: colour, width: 3)
                body += SVG.line(low, row - 5, low, row + 5, stroke: colour, width: 2)
                body += SVG.line(high, row - 5, high, row + 5, stroke: colour, width: 2)
            }
            if let x = plot.px(c.deltaPP) { body += FigurePalette.marker(c.verdict, x: x, y: row, colour: colour) }
            let range = c.interval.map { " " + ReportFormatting.interval($0) } ?? " (no interval)"
            body += SVG.text(
                plot.right + 10, row + 4, "\(c.verdict.rawValue) \(ReportFormatting.signed(c.deltaPP))\(range)",
                size: 11)
            csv += FigureCSV.line([
                variant, c.verdict.rawValue, FigureCSV.number(c.deltaPP),
                c.interval.map { FigureCSV.number($0.lowPP) } ?? "",
                c.interval.map { FigureCSV.number($0.highPP) } ?? "", FigureCSV.number(1 - c.level),
                String(c.pairedSeeds.count), c.rowsTested ? "true" : "false", FigureCSV.number(t), unit,
            ])
        }
        let levels = Set(compared.map { ReportFormatting.level($0.1.level) }).sorted()
        let level =
            levels.count == 1
            ? "\(levels[0]) %" : "(1 − level) at each comparison's own level (column level of the CSV)"
        let seedsOnly = compared.filter { !$0.1.rowsTested }.map { $0.0 }
        let sources =
            seedsOnly.isEmpty
            ? "the seeds' spread and the validation rows' bootstrap"
            : seedsOnly.count == compared.count
                ? "the seeds' spread alone (no validation-row component)"
                : "the seeds' spread and the validation rows' bootstrap (seeds alone where listed below)"
        let noInterval = compared.filter { $0.1.interval == nil }.map { $0.0 }
        let markers = FigurePalette.markerWords.filter { word in compared.contains { $0.1.verdict == word.0 } }.map {
            $0.1
        }
        var caption =
            "Marker: Δ, the mean over the paired seeds of the variant's \(metric.name) minus the baseline's (\(report.baseline)), in \(unit); "
            + "its shape is the verdict (\(markers.joined(separator: ", "))), its colour the variant's (the key beside each name). "
            + "Horizontal line with end ticks: the \(level) interval of Δ from \(sources) "
            + "(Student-t on paired seeds − 1 degrees of freedom), the interval the verdict uses. "
            + "Solid vertical line: Δ = 0 (no difference). Dashed lines and grey band: the threshold ±\(shownT) \(unit); "
            + "\"better\" or \"worse\" needs Δ beyond it, \"equivalent\" a (1 − 2α) interval inside it. "
            + "The arrow above the plot points to the side where the variant is better. \(metric.name): \(metric.goalText)"
            + (metric.goal == .min ? ", so a negative Δ means the variant is better." : ".")
        if !seedsOnly.isEmpty, seedsOnly.count < compared.count {
            caption += " Seeds only, no validation-row component, for: \(seedsOnly.joined(separator: ", "))."
        }
        if !noInterval.isEmpty {
            caption += " No interval (under 2 paired seeds) for: \(noInterval.joined(separator: ", "))."
        }
        let untested = report.variants.filter { !$0.isBaseline && $0.comparison == nil }.map(\.name)
        if !untested.isEmpty {
            caption += " Not shown (no seed paired with the baseline): \(untested.joined(separator: ", "))."
        }
        return ReportFigure(
            name: name, number: 0, title: "\(title): Δ \(metric.name) with its interval and verdict", caption: caption,
            width: 900, height: plot.bottom + 50, svgBody: body, omission: nil, csv: csv)
    }
}
