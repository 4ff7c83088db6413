// SVGPlots: the report's inline SVG figures — F1 per epoch with seed band, Δ forest plot, per-class Δ, confusion matrices.
import Foundation

/// Self-contained SVG figures (no scripts, no external resources) drawn from a `SweepReport`.
public enum SVGPlots {
    /// Colours of the variants, in order (the baseline keeps its place in the sweep's order).
    static let palette = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]

    static func colour(_ index: Int) -> String { palette[index % palette.count] }

    /// Validation macro-F1 (%) per epoch: per variant the mean over its seeds, with a band from the lowest to the
    /// highest seed.
    public static func f1PerEpoch(_ report: SweepReport) -> String {
        let series = report.variants.map { variant in
            (
                name: variant.name,
                points: bandPoints(
                    report.cells.filter { $0.variant == variant.name }, scale: report.significance.metric.scale)
            )
        }
        let all = series.flatMap(\.points)
        guard let maxEpoch = all.map(\.epoch).max(), let low = all.map(\.low).min(), let high = all.map(\.high).max()
        else {
            return empty("no epochs recorded yet")
        }
        var plot = Plot(width: 640, height: 320, left: 56, right: 150, top: 20, bottom: 40)
        let yRange = padded(low, high)
        plot.xRange = (1, Double(max(2, maxEpoch)))
        plot.yRange = yRange
        let m = report.significance.metric
        let values = m.scale == 100 ? "\(m.name) (%)" : m.name
        plot.axes(xLabel: "epoch", yLabel: m.isDefault ? "val macro-F1 (%)" : values)
        for (index, item) in series.enumerated() where !item.points.isEmpty {
            let upper = item.points.map { plot.point(Double($0.epoch), $0.high) }
            let lower = item.points.reversed().map { plot.point(Double($0.epoch), $0.low) }
            let band = upper + lower
            plot.add(
                "<polygon points=\"\(band.joined(separator: " "))\" fill=\"\(colour(index))\" fill-opacity=\"0.18\" stroke=\"none\"/>"
            )
            let line = item.points.map { plot.point(Double($0.epoch), $0.mean) }
            plot.add(
                "<polyline points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour(index))\" stroke-width=\"2\"/>"
            )
            plot.legend(index, item.name + (item.name == report.baseline ? " (baseline)" : ""), colour: colour(index))
        }
        let title = m.isDefault ? "Validation macro-F1" : "\(m.name) (\(m.goalText))"
        return plot.svg(title: "\(title) per epoch (mean over seeds, band = min…max)")
    }

    /// Δ macro-F1 (pp) of each variant with its seed-and-row confidence interval, the zero line and the labelled
    /// ±threshold band.
    public static func forest(_ report: SweepReport) -> String {
        let rows = report.variants.filter { !$0.isBaseline }
        let compared = rows.compactMap { variant in variant.comparison.map { (variant.name, $0) } }
        guard !compared.isEmpty else { return empty("no comparison with the baseline yet") }
        let t = report.significance.threshold
        let m = report.significance.metric
        let measure = m.isDefault ? "macro-F1" : m.name
        var values: [Double] = [t, -t, 0]
        for (_, comparison) in compared {
            values += [
                comparison.deltaPP, comparison.interval?.lowPP ?? comparison.deltaPP,
                comparison.interval?.highPP ?? comparison.deltaPP,
            ]
        }
        var plot = Plot(width: 760, height: Double(60 + 34 * compared.count), left: 270, right: 30, top: 20, bottom: 40)
        plot.xRange = padded(values.min() ?? -1, values.max() ?? 1)
        plot.yRange = (0, Double(compared.count))
        plot.xAxis(label: "Δ \(measure) vs \(report.baseline) (\(m.unit))")
        plot.add(
            "<rect x=\"\(plot.x(-t))\" y=\"\(plot.top)\" width=\"\(plot.x(t) - plot.x(-t))\" height=\"\(plot.innerHeight)\" fill=\"#eee\"/>"
        )
        plot.verticalLine(0, dash: String?.none, colour: "#444")
        plot.verticalLine(t, dash: "6,4", colour: "#888")
        plot.verticalLine(-t, dash: "6,4", colour: "#888")
        let shown = ReportFormatting.threshold(t, scale: m.scale)
        let band = "±" + shown + " " + m.unit
        plot.add(
            "<text x=\"\(plot.x(0))\" y=\"\(plot.top + 12)\" text-anchor=\"middle\" fill=\"#666\">threshold \(escape(band))</text>"
        )
        for (index, item) in compared.enumerated() {
            let y = Double(compared.count - index) - 0.5
            let c = item.1
            let colour =
                c.verdict == .better
                ? "#2ca02c" : c.verdict == .worse ? "#d62728" : c.verdict == .equivalent ? "#9467bd" : "#1f77b4"
            if let interval = c.interval {
                plot.add(
                    "<line x1=\"\(plot.x(interval.lowPP))\" y1=\"\(plot.y(y))\" x2=\"\(plot.x(interval.highPP))\" y2=\"\(plot.y(y))\" stroke=\"\(colour)\" stroke-width=\"3\"/>"
                )
            }
            plot.add("<circle cx=\"\(plot.x(c.deltaPP))\" cy=\"\(plot.y(y))\" r=\"5\" fill=\"\(colour)\"/>")
            plot.add(
                "<text x=\"\(plot.left - 8)\" y=\"\(plot.y(y) + 4)\" text-anchor=\"end\">\(escape(item.0)) (\(escape(c.verdict.rawValue)))</text>"
            )
        }
        return plot.svg(
            title:
                "Δ \(measure) with \(ReportFormatting.level(report.significance.alpha)) % CI over seeds and validation rows; shaded: ±\(shown) \(m.unit) threshold"
        )
    }

    /// Per-class Δ F1 (pp) as grouped bars (one group per class, one bar per variant) with CI whiskers.
    public static func perClassDelta(_ report: SweepReport) -> String {
        let compared = report.variants.enumerated().compactMap { index, variant in
            variant.comparison.map { (index, variant.name, $0) }
        }
        let classes = report.classNames
        guard !compared.isEmpty, !classes.isEmpty else { return empty("no comparison with the baseline yet") }
        var values: [Double] = [0]
        for item in compared {
            values += item.2.perClassDeltaPP.filter(\.isFinite)
            values += (item.2.rowInterval?.perClassLowPP ?? []).filter(\.isFinite)
            values += (item.2.rowInterval?.perClassHighPP ?? []).filter(\.isFinite)
        }
        var plot = Plot(width: 640, height: 300, left: 56, right: 150, top: 20, bottom: 40)
        plot.xRange = (0, Double(classes.count))
        plot.yRange = padded(values.min() ?? -1, values.max() ?? 1)
        plot.yAxis(label: "Δ F1 (pp)")
        plot.add(
            "<line x1=\"\(plot.x(0))\" y1=\"\(plot.y(0))\" x2=\"\(plot.x(Double(classes.count)))\" y2=\"\(plot.y(0))\" stroke=\"#444\"/>"
        )
        let barWidth = 0.8 / Double(compared.count)
        for (c, name) in classes.enumerated() {
            plot.add(
                "<text x=\"\(plot.x(Double(c) + 0.5))\" y=\"\(plot.top + plot.innerHeight + 18)\" text-anchor=\"middle\">\(escape(name))</text>"
            )
            for (slot, item) in compared.enumerated() {
                guard c < item.2.perClassDeltaPP.count else { continue }
                let delta = item.2.perClassDeltaPP[c]
                guard delta.isFinite else { continue }
                let x0 = Double(c) + 0.1 + Double(slot) * barWidth
                let top = plot.y(max(delta, 0))
                let height = abs(plot.y(delta) - plot.y(0))
                plot.add(
                    "<rect x=\"\(plot.x(x0))\" y=\"\(top)\" width=\"\(plot.x(x0 + barWidth) - plot.x(x0))\" height=\"\(max(height, 0.5))\" fill=\"\(colour(item.0))\"/>"
                )
                if let interval = item.2.rowInterval, c < interval.perClassLowPP.count {
                    let middle = plot.x(x0 + barWidth / 2)
                    plot.add(
                        "<line x1=\"\(middle)\" y1=\"\(plot.y(interval.perClassLowPP[c]))\" x2=\"\(middle)\" y2=\"\(plot.y(interval.perClassHighPP[c]))\" stroke=\"#222\"/>"
                    )
                }
            }
        }
        for (slot, item) in compared.enumerated() { plot.legend(slot, item.1, colour: colour(item.0)) }
        return plot.svg(
            title:
                "Per-class Δ F1 vs \(report.baseline) (bars: point estimate, whiskers: row-level paired-bootstrap CI)")
    }

    /// One confusion matrix per variant (counts summed over its seeds' best epochs), shaded by row share.
    public static func confusionMatrices(_ report: SweepReport) -> String {
        let classes = report.classNames
        let k = classes.count
        guard k > 0 else { return empty("no classes") }
        let cell = 34.0
        let size = cell * Double(k)
        let block = size + 110
        let columns = max(1, min(report.variants.count, Int(640 / block)))
        let rows = (report.variants.count + columns - 1) / columns
        var body = ""
        for (index, variant) in report.variants.enumerated() {
            var sum = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
            for run in report.cells where run.variant == variant.name {
                for t in 0..<min(k, run.best.confusion.count) {
                    for p in 0..<min(k, run.best.confusion[t].count) { sum[t][p] += run.best.confusion[t][p] }
                }
            }
            let originX = 70 + Double(index % columns) * block
            let originY = 40 + Double(index / columns) * (size + 70)
            body += "<text x=\"\(originX)\" y=\"\(originY - 22)\" font-weight=\"bold\">\(escape(variant.name))</text>"
            for t in 0..<k {
                body +=
                    "<text x=\"\(originX - 4)\" y=\"\(originY + cell * (Double(t) + 0.6))\" text-anchor=\"end\" font-size=\"10\">\(escape(classes[t]))</text>"
                let total = max(1, sum[t].reduce(0, +))
                for p in 0..<k {
                    let share = Double(sum[t][p]) / Double(total)
                    let x = originX + cell * Double(p)
                    let y = originY + cell * Double(t)
                    body +=
                        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"#08519c\" fill-opacity=\"\(String(format: "%.3f", 0.05 + 0.9 * share))\" stroke=\"#fff\"/>"
                    body +=
                        "<text x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"middle\" font-size=\"10\" fill=\"\(share > 0.5 ? "#fff" : "#000")\">\(sum[t][p])</text>"
                }
            }
            for p in 0..<k {
                body +=
                    "<text x=\"\(originX + cell * (Double(p) + 0.5))\" y=\"\(originY - 6)\" text-anchor=\"middle\" font-size=\"10\">\(escape(classes[p]))</text>"
            }
        }
        let width = 70 + Double(columns) * block
        let height = 40 + Double(rows) * (size + 70)
        return
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">"
            + "<title>Confusion matrices (rows: true class, columns: predicted; best epoch, summed over seeds)</title>"
            + body + "</svg>"
    }

    /// One point per epoch: the mean over the cells' histories and the lowest and highest seed (in %).
    struct BandPoint {
        var epoch: Int
        var mean: Double
        var low: Double
        var high: Double
    }

    static func bandPoints(_ cells: [CellReport], scale: Double = 100) -> [BandPoint] {
        let epochs = Set(cells.flatMap { $0.history.map(\.epoch) }).sorted()
        var points: [BandPoint] = []
        for epoch in epochs {
            let values = cells.compactMap { cell in cell.history.first { $0.epoch == epoch }?.value }.map { scale * $0 }
            guard let spread = Spread(values) else { continue }
            points.append(BandPoint(epoch: epoch, mean: spread.mean, low: spread.min, high: spread.max))
        }
        return points
    }

    /// A small placeholder figure with a message.
    static func empty(_ message: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"40\" font-family=\"sans-serif\" font-size=\"12\"><text x=\"10\" y=\"24\">\(escape(message))</text></svg>"
    }

    /// `(low, high)` widened by 5 % on each side (and to a non-empty range).
    static func padded(_ low: Double, _ high: Double) -> (Double, Double) {
        let span = max(high - low, 1e-6)
        return (low - 0.05 * span, high + 0.05 * span)
    }

    /// Text escaped for XML.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// A plot area with linear axes inside an SVG of fixed size.
struct Plot {
    var width: Double
    var height: Double
    var left: Double
    var right: Double
    var top: Double
    var bottom: Double
    var xRange: (Double, Double) = (0, 1)
    var yRange: (Double, Double) = (0, 1)
    private var elements: [String] = []
    private var legends = 0

    init(width: Double, height: Double, left: Double, right: Double, top: Double, bottom: Double) {
        self.width = width
        self.height = height
        self.left = left
        self.right = right
        self.top = top
        self.bottom = bottom
    }

    var innerWidth: Double { width - left - right }
    var innerHeight: Double { height - top - bottom }

    func x(_ value: Double) -> Double { left + (value - xRange.0) / max(xRange.1 - xRange.0, 1e-12) * innerWidth }
    func y(_ value: Double) -> Double {
        top + innerHeight - (value - yRange.0) / max(yRange.1 - yRange.0, 1e-12) * innerHeight
    }
    func point(_ px: Double, _ py: Double) -> String { String(format: "%.1f,%.1f", x(px), y(py)) }

    mutating func add(_ element: String) { elements.append(element) }

    mutating func axes(xLabel: String, yLabel: String) {
        xAxis(label: xLabel)
        yAxis(label: yLabel)
    }

    mutating func xAxis(label: String) {
        let base = top + innerHeight
        add("<line x1=\"\(left)\" y1=\"\(base)\" x2=\"\(left + innerWidth)\" y2=\"\(base)\" stroke=\"#000\"/>")
        for tick in ticks(xRange) {
            add("<line x1=\"\(x(tick))\" y1=\"\(base)\" x2=\"\(x(tick))\" y2=\"\(base + 4)\" stroke=\"#000\"/>")
            add(
                "<text x=\"\(x(tick))\" y=\"\(base + 16)\" text-anchor=\"middle\" font-size=\"10\">\(Plot.label(tick))</text>"
            )
        }
        add(
            "<text x=\"\(left + innerWidth / 2)\" y=\"\(height - 6)\" text-anchor=\"middle\">\(SVGPlots.escape(label))</text>"
        )
    }

    mutating func yAxis(label: String) {
        add("<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + innerHeight)\" stroke=\"#000\"/>")
        for tick in ticks(yRange) {
            add("<line x1=\"\(left - 4)\" y1=\"\(y(tick))\" x2=\"\(left)\" y2=\"\(y(tick))\" stroke=\"#000\"/>")
            add(
                "<text x=\"\(left - 6)\" y=\"\(y(tick) + 3)\" text-anchor=\"end\" font-size=\"10\">\(Plot.label(tick))</text>"
            )
        }
        add(
            "<text transform=\"translate(14,\(top + innerHeight / 2)) rotate(-90)\" text-anchor=\"middle\">\(SVGPlots.escape(label))</text>"
        )
    }

    mutating func verticalLine(_ value: Double, dash: String?, colour: String) {
        let dashing = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        add(
            "<line x1=\"\(x(value))\" y1=\"\(top)\" x2=\"\(x(value))\" y2=\"\(top + innerHeight)\" stroke=\"\(colour)\"\(dashing)/>"
        )
    }

    mutating func legend(_ index: Int, _ text: String, colour: String) {
        let ly = top + 14 + 18 * Double(legends)
        legends += 1
        add("<rect x=\"\(width - right + 12)\" y=\"\(ly - 10)\" width=\"12\" height=\"12\" fill=\"\(colour)\"/>")
        add("<text x=\"\(width - right + 30)\" y=\"\(ly)\">\(SVGPlots.escape(text))</text>")
        _ = index
    }

    func svg(title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">"
            + "<title>\(SVGPlots.escape(title))</title>" + elements.joined() + "</svg>"
    }

    /// About five round tick values across `range`.
    func ticks(_ range: (Double, Double)) -> [Double] {
        let span = range.1 - range.0
        guard span > 0, span.isFinite else { return [] }
        let raw = span / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var tick = (range.0 / step).rounded(.up) * step
        var out: [Double] = []
        while tick <= range.1 + 1e-9 * step, out.count < 20 {
            out.append(tick)
            tick += step
        }
        return out
    }

    static func label(_ value: Double) -> String {
        abs(value - value.rounded()) < 1e-9 ? String(Int(value.rounded())) : String(format: "%.2g", value)
    }
}
