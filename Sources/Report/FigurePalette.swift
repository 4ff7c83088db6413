// FigurePalette: one fixed colour per variant for every figure (colour-blind-safe), the legend, and the verdict markers.
import Foundation

/// The variants' colours, assigned in the report's variant order and the same in every figure.
struct FigurePalette {
    /// Okabe and Ito's colour-blind-safe colours (their yellow, too pale on white, last); from the ninth variant on
    /// the colours repeat.
    static let colours = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]

    /// Variant names in the report's order.
    let variants: [String]
    let baseline: String

    init(_ report: SweepReport) {
        variants = report.variants.map(\.name)
        baseline = report.baseline
    }

    /// The colour of `variant` (grey for a name not among the report's variants).
    func colour(_ variant: String) -> String {
        guard let index = variants.firstIndex(of: variant) else { return "#777777" }
        return Self.colours[index % Self.colours.count]
    }

    /// The legend label of a variant: its name, "(baseline)" after the baseline's.
    func label(_ variant: String) -> String { variant == baseline ? "\(variant) (baseline)" : variant }

    /// A horizontal legend of `names` starting at (`x`, `y`), wrapped at `maxWidth`; returns the SVG and its height.
    func legend(_ names: [String], x: Double, y: Double, maxWidth: Double) -> (svg: String, height: Double) {
        var out = ""
        var column = x
        var row = y
        for name in names {
            let label = label(name)
            let width = 28 + 7.2 * Double(label.count)
            if column > x, column + width > x + maxWidth {
                column = x
                row += 18
            }
            out += SVG.line(column, row - 4, column + 18, row - 4, stroke: colour(name), width: 3)
            out += SVG.text(column + 23, row, label, size: 12)
            column += width + 10
        }
        return (out, row - y + 18)
    }

    /// The marker of a verdict in the forest plot: its shape's SVG centred on (`x`, `y`) in `colour`.
    static func marker(_ verdict: Verdict, x: Double, y: Double, colour: String) -> String {
        let r = 6.0
        switch verdict {
        case .better:
            return
                "<polygon points=\"\(SVG.n(x)),\(SVG.n(y - r)) \(SVG.n(x + r)),\(SVG.n(y + r)) \(SVG.n(x - r)),\(SVG.n(y + r))\" fill=\"\(colour)\" stroke=\"#000\" stroke-width=\"0.8\"/>"
        case .worse:
            return
                "<polygon points=\"\(SVG.n(x - r)),\(SVG.n(y - r)) \(SVG.n(x + r)),\(SVG.n(y - r)) \(SVG.n(x)),\(SVG.n(y + r))\" fill=\"\(colour)\" stroke=\"#000\" stroke-width=\"0.8\"/>"
        case .equivalent:
            return
                "<polygon points=\"\(SVG.n(x)),\(SVG.n(y - r)) \(SVG.n(x + r)),\(SVG.n(y)) \(SVG.n(x)),\(SVG.n(y + r)) \(SVG.n(x - r)),\(SVG.n(y))\" fill=\"\(colour)\" stroke=\"#000\" stroke-width=\"0.8\"/>"
        case .undecided:
            return
                "<circle cx=\"\(SVG.n(x))\" cy=\"\(SVG.n(y))\" r=\"\(SVG.n(r - 1))\" fill=\"#fff\" stroke=\"\(colour)\" stroke-width=\"2.5\"/>"
        case .untested:
            return SVG.line(x - r, y - r, x + r, y + r, stroke: colour, width: 2.5)
                + SVG.line(x - r, y + r, x + r, y - r, stroke: colour, width: 2.5)
        }
    }

    /// The words for each verdict's marker, for the forest plot's caption.
    static let markerWords: [(Verdict, String)] = [
        (.better, "▲ better"), (.worse, "▼ worse"), (.equivalent, "◆ equivalent"), (.undecided, "○ undecided"),
        (.untested, "× not tested"),
    ]
}
