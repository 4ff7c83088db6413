// LearningCurvesFigure: the sweep metric and the losses per epoch, training and validation, per seed and mean per variant.
import CoordinatorKit
import Foundation

/// Learning curves as small multiples: the sweep's metric on the validation set (and on the training set when the
/// cells record it), the training loss and the validation loss. Every cell is a thin line, every variant's mean over
/// its seeds a thick line, in the variant's colour.
enum LearningCurvesFigure {
    static let name = "learning-curves"
    static let title = "Learning curves"

    /// The axis unit of the metric's values as plotted: `%` for a fraction shown ×100, else the metric's unit (none
    /// when the unit is `pp`, a unit of differences).
    static func valueUnit(_ metric: SweepMetric) -> String {
        metric.scale == 100 ? "%" : metric.unit == "pp" ? "" : metric.unit
    }

    /// `name (unit)`, or just the name without a unit.
    static func titled(_ name: String, unit: String) -> String { unit.isEmpty ? name : "\(name) (\(unit))" }

    static func make(_ report: SweepReport, palette: FigurePalette) -> ReportFigure {
        let metric = report.significance.metric
        let unit = valueUnit(metric)
        let cells = ordered(report.cells, palette: palette)
        var panels: [SeriesPanel] = []
        let goal = metric.goalText
        let metricLines = cells.map { cell in
            SeedLine(
                variant: cell.variant, seed: cell.seed,
                points: cell.history.map { EpochValue(epoch: $0.epoch, value: metric.scale * $0.value) })
        }
        panels.append(
            SeriesPanel(
                title: "\(metric.name), validation (\(goal))", yTitle: titled(metric.name, unit: unit),
                series: metric.name, unit: unit, lines: metricLines, showMean: true, allowLog: false))
        if metric.name.hasPrefix("val_") {
            let training = "train_" + metric.name.dropFirst(4)
            if let lines = seriesLines(training, cells, scale: metric.scale) {
                panels.append(
                    SeriesPanel(
                        title: "\(training), training", yTitle: titled(training, unit: unit), series: training,
                        unit: unit, lines: lines, showMean: true, allowLog: false))
            }
        }
        for (series, heading) in [("train_loss", "training loss"), ("val_loss", "validation loss")]
        where series != metric.name {
            if let lines = seriesLines(series, cells, scale: 1) {
                panels.append(
                    SeriesPanel(
                        title: "\(series), \(heading)", yTitle: series, series: series, unit: "", lines: lines,
                        showMean: true, allowLog: false))
            }
        }
        let header = "variant,seed,epoch,series,value,unit"
        guard metricLines.contains(where: { $0.points.contains { $0.value.isFinite } }) else {
            return .omitted(name, title: title, because: "no cell has recorded an epoch yet", header: header)
        }
        let drawn = SeriesPanels.draw(panels, palette: palette)
        let seeds = Set(cells.map(\.seed)).count
        let missing = ["train_loss", "val_loss"].filter { name in !panels.contains { $0.series == name } }
        let caption =
            "Per epoch, for each panel: thin lines, one per cell (variant × seed, \(cells.count) cells over \(seeds) seeds); "
            + "thick lines, each variant's mean over its seeds that recorded that epoch (after a seed stops early, the "
            + "mean is over the seeds still running). Colours: one per variant, as in every figure. \(metric.name) is plotted "
            + (metric.scale == 100 ? "×100 (in %)" : "in its own unit\(unit.isEmpty ? "" : " (\(unit))")")
            + "; the losses in the trainer's own units. A missing value draws no line."
            + (missing.isEmpty ? "" : " Not recorded by any cell, so not drawn: \(missing.joined(separator: ", ")).")
        return ReportFigure(
            name: name, number: 0, title: "\(title): \(panels.map(\.series).joined(separator: ", "))",
            caption: caption, width: drawn.width, height: drawn.height, svgBody: drawn.body, omission: nil,
            csv: SeriesPanels.csv(panels, palette: palette, seriesColumn: "series"))
    }

    /// Each cell's values of `series` (× `scale`), nil when no cell recorded it.
    static func seriesLines(_ series: String, _ cells: [CellReport], scale: Double) -> [SeedLine]? {
        let lines = cells.map { cell in
            SeedLine(
                variant: cell.variant, seed: cell.seed,
                points: cell.epochs.map { point in
                    EpochValue(epoch: point.epoch, value: point.values[series].map { scale * $0 } ?? .nan)
                })
        }
        return lines.contains { $0.points.contains { $0.value.isFinite } } ? lines : nil
    }

    /// The cells in the report's variant order, then by seed.
    static func ordered(_ cells: [CellReport], palette: FigurePalette) -> [CellReport] {
        cells.sorted {
            let a = palette.variants.firstIndex(of: $0.variant) ?? Int.max
            let b = palette.variants.firstIndex(of: $1.variant) ?? Int.max
            return a != b ? a < b : $0.seed < $1.seed
        }
    }
}
