// PerClassDeltaFigure: each variant's per-class Δ F1 against the baseline as grouped bars on a full symmetric axis.
import Foundation

/// Grouped bars: one group per class, one bar per compared variant (its colour), Δ F1 in points with the row-level
/// bootstrap interval as a whisker where the cells have paired predictions.
enum PerClassDeltaFigure {
    static let name = "per-class-delta"
    static let title = "Per-class difference in F1"

    static func make(_ report: SweepReport, palette: FigurePalette) -> ReportFigure {
        let classes = report.classNames
        let compared = report.variants.filter { !$0.isBaseline }.compactMap { v in v.comparison.map { (v.name, $0) } }
        let header = "variant,class,delta_f1,low,high,unit"
        let finite = compared.flatMap { $0.1.perClassDeltaPP }.filter(\.isFinite)
        guard !compared.isEmpty else {
            return .omitted(
                name, title: title, because: "no variant has a seed paired with the baseline yet", header: header)
        }
        guard !classes.isEmpty, !finite.isEmpty else {
            return .omitted(
                name, title: title,
                because: "the cells recorded no per-class F1 (a command cell's metrics.jsonl has no val.f1 list)",
                header: header)
        }
        var values = finite
        for (_, c) in compared {
            values += (c.rowInterval?.perClassLowPP ?? []) + (c.rowInterval?.perClassHighPP ?? [])
        }
        let axis = FigureAxis(symmetricCovering: values, minimum: 1)
        let plotWidth = max(
            360, min(760, Double(classes.count) * Double(compared.count) * 22 + Double(classes.count) * 24))
        let plot = FigurePanel(
            left: 76, top: 24, width: plotWidth, height: 260, x: FigureAxis(covering: [0, Double(classes.count)]),
            y: axis)
        var body = ""
        for tick in axis.ticks {
            guard let row = plot.py(tick) else { continue }
            body += SVG.line(plot.left, row, plot.right, row, stroke: tick == 0 ? "#000" : "#e4e4e4")
            body += SVG.line(plot.left - 4, row, plot.left, row, stroke: "#000")
            body += SVG.text(plot.left - 7, row + 4, axis.label(tick), anchor: "end", size: 11)
        }
        body += SVG.line(plot.left, plot.top, plot.left, plot.bottom, stroke: "#000")
        body +=
            "<text transform=\"translate(\(SVG.n(plot.left - 50)),\(SVG.n(plot.top + plot.height / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">Δ F1 vs \(SVGPlots.escape(report.baseline)) (pp)</text>"
        let slot = 0.8 / Double(compared.count)
        var csv = FigureCSV.line(header.split(separator: ",").map(String.init))
        var whiskers = false
        for (c, className) in classes.enumerated() {
            if let middle = plot.px(Double(c) + 0.5) {
                body += SVG.text(middle, plot.bottom + 18, className, anchor: "middle", size: 11)
            }
            for (index, item) in compared.enumerated() {
                let (variant, comparison) = item
                guard c < comparison.perClassDeltaPP.count else { continue }
                let delta = comparison.perClassDeltaPP[c]
                let low = comparison.rowInterval.flatMap { c < $0.perClassLowPP.count ? $0.perClassLowPP[c] : nil }
                let high = comparison.rowInterval.flatMap { c < $0.perClassHighPP.count ? $0.perClassHighPP[c] : nil }
                guard delta.isFinite else { continue }
                csv += FigureCSV.line([
                    variant, className, FigureCSV.number(delta), low.map(FigureCSV.number) ?? "",
                    high.map(FigureCSV.number) ?? "", "pp",
                ])
                let x0 = Double(c) + 0.1 + Double(index) * slot
                guard let left = plot.px(x0), let right = plot.px(x0 + slot), let zero = plot.py(0),
                    let end = plot.py(delta)
                else { continue }
                body +=
                    "<rect x=\"\(SVG.n(left + 1))\" y=\"\(SVG.n(min(zero, end)))\" width=\"\(SVG.n(max(right - left - 2, 1)))\" height=\"\(SVG.n(max(abs(end - zero), 0.8)))\" fill=\"\(palette.colour(variant))\"/>"
                if let low, let high, let top = plot.py(high), let bottom = plot.py(low) {
                    let middle = (left + right) / 2
                    body += SVG.line(middle, top, middle, bottom, stroke: "#222", width: 1.2)
                    body += SVG.line(middle - 3, top, middle + 3, top, stroke: "#222", width: 1.2)
                    body += SVG.line(middle - 3, bottom, middle + 3, bottom, stroke: "#222", width: 1.2)
                    whiskers = true
                }
            }
        }
        body += SVG.text(plot.left + plot.width / 2, plot.bottom + 38, "class", anchor: "middle", size: 12)
        let legend = palette.legend(compared.map { $0.0 }, x: plot.left, y: plot.bottom + 58, maxWidth: 780)
        body += legend.svg
        let alpha = ReportFormatting.level(report.significance.alpha)
        var caption =
            "Bars: per class, the mean over the paired seeds of the variant's F1 on that class minus the baseline's "
            + "(\(report.baseline)), in percentage points, at each cell's best epoch; one bar per variant in its colour. "
            + "The y axis is symmetric about 0 (black line) and covers every bar and whisker. "
        caption +=
            whiskers
            ? "Whiskers: the \(alpha) % paired bootstrap interval over validation rows (each trained model fixed, so the seeds' spread is not in it)."
            : "No whiskers: without paired predictions.h5 there is no row-level interval."
        return ReportFigure(
            name: name, number: 0, title: "\(title) from the baseline", caption: caption,
            width: max(plot.right + 30, 520),
            height: plot.bottom + 58 + legend.height, svgBody: body, omission: nil, csv: csv)
    }
}
