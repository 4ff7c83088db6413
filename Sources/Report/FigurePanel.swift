// FigurePanel: one rectangular plot area of a figure — its two axes, ticks, grid, axis titles and lines drawn in it.
import Foundation

/// A plot area at a place in an SVG: values map through its axes to pixels; everything it draws is SVG text.
struct FigurePanel {
    /// The plot area's left, top, width and height in pixels (the axes' tick labels and titles lie outside it).
    var left: Double
    var top: Double
    var width: Double
    var height: Double
    var x: FigureAxis
    var y: FigureAxis

    /// The pixel column of `value` on the x axis (nil when it cannot be placed).
    func px(_ value: Double) -> Double? { x.fraction(value).map { left + $0 * width } }
    /// The pixel row of `value` on the y axis (nil when it cannot be placed).
    func py(_ value: Double) -> Double? { y.fraction(value).map { top + height - $0 * height } }

    var bottom: Double { top + height }
    var right: Double { left + width }

    /// Light grid lines at the ticks, the axis lines, tick marks and labels on both axes, and the axis titles.
    func axes(xTitle: String, yTitle: String, title: String? = nil, xTicks: [Double]? = nil) -> String {
        var out = ""
        let xs = xTicks ?? x.ticks
        for tick in y.ticks {
            guard let row = py(tick) else { continue }
            out += SVG.line(left, row, right, row, stroke: "#e4e4e4")
            out += SVG.line(left - 4, row, left, row, stroke: "#000")
            out += SVG.text(left - 7, row + 4, y.label(tick), anchor: "end", size: 11)
        }
        for tick in xs {
            guard let column = px(tick) else { continue }
            out += SVG.line(column, top, column, bottom, stroke: "#f0f0f0")
            out += SVG.line(column, bottom, column, bottom + 4, stroke: "#000")
            out += SVG.text(column, bottom + 16, x.label(tick), anchor: "middle", size: 11)
        }
        out += SVG.line(left, bottom, right, bottom, stroke: "#000")
        out += SVG.line(left, top, left, bottom, stroke: "#000")
        out += SVG.text(left + width / 2, bottom + 34, xTitle, anchor: "middle", size: 12)
        // The y title clears the longest tick label (about 6.2 px a character at 11 px).
        let longest = Double(y.ticks.map { y.label($0).count }.max() ?? 1)
        out +=
            "<text transform=\"translate(\(SVG.n(left - max(40, 18 + 6.2 * longest))),\(SVG.n(top + height / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">\(SVGPlots.escape(yTitle))</text>"
        if let title { out += SVG.text(left, top - 8, title, anchor: "start", size: 12, weight: "bold") }
        return out
    }

    /// A polyline through the points that can be placed, broken where a point is missing or cannot be placed
    /// (a NaN draws no line to or from it).
    func polyline(
        _ points: [(Double, Double)], colour: String, width strokeWidth: Double, opacity: Double = 1,
        dash: String? = nil
    ) -> String {
        var runs: [[String]] = [[]]
        for (vx, vy) in points {
            if let column = px(vx), let row = py(vy) {
                runs[runs.count - 1].append("\(SVG.n(column)),\(SVG.n(row))")
            } else if !(runs.last?.isEmpty ?? true) {
                runs.append([])
            }
        }
        let dashing = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        return runs.filter { !$0.isEmpty }.map { run in
            if run.count == 1 {
                let xy = run[0].split(separator: ",")
                return
                    "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"\(SVG.n(strokeWidth + 0.5))\" fill=\"\(colour)\" fill-opacity=\"\(SVG.n(opacity))\"/>"
            }
            return
                "<polyline points=\"\(run.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"\(SVG.n(strokeWidth))\" stroke-opacity=\"\(SVG.n(opacity))\" stroke-linejoin=\"round\"\(dashing)/>"
        }.joined()
    }

    /// A vertical line across the panel at `value` (nothing when it cannot be placed).
    func verticalLine(_ value: Double, stroke: String, dash: String? = nil, width strokeWidth: Double = 1) -> String {
        guard let column = px(value) else { return "" }
        return SVG.line(column, top, column, bottom, stroke: stroke, dash: dash, width: strokeWidth)
    }

    /// A horizontal line across the panel at `value`.
    func horizontalLine(_ value: Double, stroke: String, dash: String? = nil, width strokeWidth: Double = 1) -> String {
        guard let row = py(value) else { return "" }
        return SVG.line(left, row, right, row, stroke: stroke, dash: dash, width: strokeWidth)
    }
}

/// SVG element helpers shared by the figures (coordinates with one decimal, text escaped).
enum SVG {
    /// An SVG line.
    static func line(
        _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, dash: String? = nil, width: Double = 1
    ) -> String {
        let dashing = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        let widthText = width == 1 ? "" : " stroke-width=\"\(n(width))\""
        return
            "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\"\(widthText)\(dashing)/>"
    }

    /// An SVG text element (escaped).
    static func text(
        _ x: Double, _ y: Double, _ content: String, anchor: String = "start", size: Double = 12, weight: String? = nil,
        fill: String? = nil
    ) -> String {
        let bold = weight.map { " font-weight=\"\($0)\"" } ?? ""
        let colour = fill.map { " fill=\"\($0)\"" } ?? ""
        return
            "<text x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"\(anchor)\" font-size=\"\(n(size))\"\(bold)\(colour)>\(SVGPlots.escape(content))</text>"
    }

    /// A pixel coordinate with one decimal.
    static func n(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }
}
