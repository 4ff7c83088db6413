// SeriesPanels: small multiples of per-epoch series — one thin line per seed and a thick mean per variant in each panel.
import Foundation

/// One cell's values of one series, by epoch (NaN or missing epochs draw no line).
struct SeedLine {
    var variant: String
    var seed: UInt64
    var points: [EpochValue]
}

/// One panel of a small-multiples figure.
struct SeriesPanel {
    /// The panel's heading and the y axis title (with its unit).
    var title: String
    var yTitle: String
    /// The series' name in the figure's CSV.
    var series: String
    var unit: String
    var lines: [SeedLine]
    /// Whether each variant's mean over its seeds is drawn as a thick line.
    var showMean: Bool
    /// Whether a log y axis is used when the positive values span over 20×.
    var allowLog: Bool
}

/// Drawing and CSV of small multiples of `SeriesPanel`s (learning curves, learning rates).
enum SeriesPanels {
    /// Per variant (in `order`) the mean at each epoch over the seeds with a finite value there (`seed` unused).
    static func means(_ lines: [SeedLine], order: [String]) -> [SeedLine] {
        order.compactMap { variant in
            var sums: [Int: (Double, Int)] = [:]
            for line in lines where line.variant == variant {
                for point in line.points where point.value.isFinite {
                    let sum = sums[point.epoch] ?? (0, 0)
                    sums[point.epoch] = (sum.0 + point.value, sum.1 + 1)
                }
            }
            guard !sums.isEmpty else { return nil }
            let points = sums.keys.sorted().map { epoch in
                EpochValue(epoch: epoch, value: (sums[epoch]?.0 ?? 0) / Double(max(sums[epoch]?.1 ?? 1, 1)))
            }
            return SeedLine(variant: variant, seed: 0, points: points)
        }
    }

    /// The panels laid out two per row with a shared legend of the variants below: the SVG body, width and height.
    static func draw(_ panels: [SeriesPanel], palette: FigurePalette) -> (body: String, width: Double, height: Double) {
        let columnWidth = 470.0
        let plotWidth = 380.0
        let plotHeight = 210.0
        let rowHeight = 30 + plotHeight + 52
        let columns = panels.count > 1 ? 2 : 1
        var body = ""
        let maxEpoch = panels.flatMap { $0.lines.flatMap { $0.points.map(\.epoch) } }.max() ?? 1
        let xAxis = FigureAxis(covering: [1, Double(max(maxEpoch, 2))], count: 8, minimumStep: 1)
        for (index, panel) in panels.enumerated() {
            let originX = Double(index % columns) * columnWidth
            let originY = Double(index / columns) * rowHeight
            let values = panel.lines.flatMap { $0.points.map(\.value) }.filter(\.isFinite)
            let log = panel.allowLog && FigureAxis.wantsLog(values)
            let yAxis = log ? FigureAxis(logCovering: values) : FigureAxis(covering: values)
            let plot = FigurePanel(
                left: originX + 66, top: originY + 30, width: plotWidth, height: plotHeight, x: xAxis, y: yAxis)
            body += plot.axes(xTitle: "epoch", yTitle: panel.yTitle, title: panel.title)
            for line in panel.lines {
                let points = line.points.map { (Double($0.epoch), $0.value) }
                body += plot.polyline(
                    points, colour: palette.colour(line.variant), width: panel.showMean ? 1 : 1.6,
                    opacity: panel.showMean ? 0.45 : 0.9)
            }
            if panel.showMean {
                for mean in means(panel.lines, order: palette.variants) {
                    body += plot.polyline(
                        mean.points.map { (Double($0.epoch), $0.value) }, colour: palette.colour(mean.variant),
                        width: 3)
                }
            }
        }
        let rows = (panels.count + columns - 1) / columns
        let width = Double(columns) * columnWidth
        let shown = palette.variants.filter { variant in panels.contains { $0.lines.contains { $0.variant == variant } }
        }
        let legend = palette.legend(shown, x: 66, y: Double(rows) * rowHeight + 8, maxWidth: width - 80)
        body += legend.svg
        return (body, width, Double(rows) * rowHeight + legend.height + 6)
    }

    /// The CSV of the panels: every seed's value and, where drawn, every mean (`seed` = `mean`).
    static func csv(_ panels: [SeriesPanel], palette: FigurePalette, seriesColumn: String) -> String {
        var out = FigureCSV.line(["variant", "seed", "epoch", seriesColumn, "value", "unit"])
        for panel in panels {
            for line in panel.lines {
                for point in line.points where point.value.isFinite {
                    out += FigureCSV.line([
                        line.variant, String(line.seed), String(point.epoch), panel.series,
                        FigureCSV.number(point.value), panel.unit,
                    ])
                }
            }
            guard panel.showMean else { continue }
            for mean in means(panel.lines, order: palette.variants) {
                for point in mean.points {
                    out += FigureCSV.line([
                        mean.variant, "mean", String(point.epoch), panel.series, FigureCSV.number(point.value),
                        panel.unit,
                    ])
                }
            }
        }
        return out
    }
}
