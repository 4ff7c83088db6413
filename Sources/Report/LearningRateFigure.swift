// LearningRateFigure: the learning-rate schedule per parameter group, one line per cell, in the variant's colour.
import Foundation

/// The learning rate each cell used per epoch: one panel per parameter group (`lr_<group>`, or a command's `lr`),
/// a log axis when a panel's rates span over 20×.
enum LearningRateFigure {
    static let name = "learning-rate"
    static let title = "Learning-rate schedule"

    static func make(_ report: SweepReport, palette: FigurePalette) -> ReportFigure {
        let cells = LearningCurvesFigure.ordered(report.cells, palette: palette)
        let groups = Set(cells.flatMap { $0.epochs.flatMap(\.values.keys) }).filter {
            $0 == "lr" || $0.hasPrefix("lr_")
        }
        .sorted()
        var panels: [SeriesPanel] = []
        for group in groups {
            guard let lines = LearningCurvesFigure.seriesLines(group, cells, scale: 1) else { continue }
            let label = group == "lr" ? "learning rate" : "learning rate, group \(group.dropFirst(3))"
            panels.append(
                SeriesPanel(
                    title: label, yTitle: group, series: group, unit: "", lines: lines,
                    showMean: false, allowLog: true))
        }
        let header = "variant,seed,epoch,group,value,unit"
        guard !panels.isEmpty else {
            return .omitted(
                name, title: title,
                because: "no cell recorded a learning rate (a number named lr or lr_<group> in metrics.jsonl)",
                header: header)
        }
        let drawn = SeriesPanels.draw(panels, palette: palette)
        let logged = panels.filter { panel in
            FigureAxis.wantsLog(panel.lines.flatMap { $0.points.map(\.value) }.filter(\.isFinite))
        }.map(\.series)
        let caption =
            "The learning rate recorded for each epoch, one panel per parameter group (\(panels.map(\.series).joined(separator: ", "))); "
            + "one line per cell (variant × seed) in the variant's colour; cells of a variant with the same schedule draw "
            + "on top of each other. "
            + (logged.isEmpty
                ? "Linear y axes."
                : "Log y axis (the rates span over 20×) in: \(logged.joined(separator: ", ")).")
        return ReportFigure(
            name: name, number: 0, title: title, caption: caption, width: drawn.width, height: drawn.height,
            svgBody: drawn.body, omission: nil, csv: SeriesPanels.csv(panels, palette: palette, seriesColumn: "group"))
    }
}
