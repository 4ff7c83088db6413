// SVGPlots: the report's figures in page order, numbered, each a self-contained SVG with its caption and data.
import Foundation

/// The report's figures (hand-written SVG: no scripts, no external resources), drawn from a `SweepReport` with one
/// colour per variant throughout (`FigurePalette`).
public enum SVGPlots {
    /// The sections of the page and their figures' names, in order.
    public static let sections: [(title: String, figures: [String])] = [
        ("Training", [LearningCurvesFigure.name, LearningRateFigure.name]),
        ("Comparison with the baseline", [ForestFigure.name, PerClassDeltaFigure.name]),
        ("Confusion matrices", [ConfusionFigure.name]),
    ]

    /// Every figure in page order; the drawn ones numbered 1, 2, …, the left-out ones (number 0) with their reason.
    public static func figures(_ report: SweepReport) -> [ReportFigure] {
        let palette = FigurePalette(report)
        var figures = [
            LearningCurvesFigure.make(report, palette: palette), LearningRateFigure.make(report, palette: palette),
            ForestFigure.make(report, palette: palette), PerClassDeltaFigure.make(report, palette: palette),
            ConfusionFigure.make(report, palette: palette),
        ]
        var number = 0
        for index in figures.indices where figures[index].svgBody != nil {
            number += 1
            figures[index].number = number
        }
        return figures
    }

    /// The colour every figure gives `variant` (the report's variant order, Okabe–Ito colours).
    public static func colour(of variant: String, in report: SweepReport) -> String {
        FigurePalette(report).colour(variant)
    }

    /// Text escaped for XML.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
