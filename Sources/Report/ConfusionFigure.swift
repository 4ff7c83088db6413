// ConfusionFigure: one confusion matrix per variant — true × predicted, row percentages and counts, shaded by row share.
import Foundation

/// Per variant the confusion matrices of its cells' best epochs summed over seeds; each cell shows its share of the
/// true class's row (percent) and its count.
enum ConfusionFigure {
    static let name = "confusion"
    static let title = "Confusion matrices"

    /// The summed matrix of `variant` (`[true][predicted]`), nil when none of its cells recorded one.
    static func matrix(_ report: SweepReport, variant: String) -> [[Int]]? {
        let k = report.classNames.count
        var sum = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var any = false
        for cell in report.cells where cell.variant == variant && !cell.best.confusion.isEmpty {
            any = true
            for t in 0..<min(k, cell.best.confusion.count) {
                for p in 0..<min(k, cell.best.confusion[t].count) { sum[t][p] += cell.best.confusion[t][p] }
            }
        }
        return any ? sum : nil
    }

    /// Each row as percentages of its total (a row without counts stays 0).
    static func rowPercentages(_ matrix: [[Int]]) -> [[Double]] {
        matrix.map { row in
            let total = row.reduce(0, +)
            return row.map { total > 0 ? 100 * Double($0) / Double(total) : 0 }
        }
    }

    static func make(_ report: SweepReport, palette: FigurePalette) -> ReportFigure {
        let classes = report.classNames
        let k = classes.count
        let header = "variant,true,predicted,count,row_percent"
        let matrices = report.variants.compactMap { v in matrix(report, variant: v.name).map { (v.name, $0) } }
        guard k > 0, !matrices.isEmpty else {
            return .omitted(
                name, title: title,
                because: "no cell recorded a confusion matrix (a command cell's metrics.jsonl has no val.confusion)",
                header: header)
        }
        let cell = k <= 6 ? 52.0 : k <= 10 ? 42 : 30
        let size = cell * Double(k)
        let labelWidth = Double(classes.map(\.count).max() ?? 1) * 7 + 12
        let block = 30 + labelWidth + size + 30
        let columns = max(1, min(matrices.count, Int(900 / block)))
        let blockHeight = 40 + 20 + size + 20
        var body = ""
        var csv = FigureCSV.line(header.split(separator: ",").map(String.init))
        for (index, item) in matrices.enumerated() {
            let (variant, sum) = item
            let percent = rowPercentages(sum)
            let x0 = Double(index % columns) * block + 30 + labelWidth
            let y0 = Double(index / columns) * blockHeight + 60
            body += SVG.line(x0, y0 - 44, x0 + 18, y0 - 44, stroke: palette.colour(variant), width: 4)
            body += SVG.text(x0 + 24, y0 - 40, palette.label(variant), size: 12, weight: "bold")
            body += SVG.text(x0 + size / 2, y0 - 20, "predicted", anchor: "middle", size: 11, weight: "bold")
            body +=
                "<text transform=\"translate(\(SVG.n(x0 - labelWidth - 14)),\(SVG.n(y0 + size / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\" font-weight=\"bold\">true</text>"
            for p in 0..<k {
                body += SVG.text(x0 + cell * (Double(p) + 0.5), y0 - 5, classes[p], anchor: "middle", size: 10)
            }
            for t in 0..<k {
                body += SVG.text(x0 - 5, y0 + cell * (Double(t) + 0.5) + 4, classes[t], anchor: "end", size: 10)
                for p in 0..<k {
                    let share = percent[t][p]
                    let x = x0 + cell * Double(p)
                    let y = y0 + cell * Double(t)
                    body +=
                        "<rect x=\"\(SVG.n(x))\" y=\"\(SVG.n(y))\" width=\"\(SVG.n(cell))\" height=\"\(SVG.n(cell))\" fill=\"#08519c\" fill-opacity=\"\(String(format: "%.3f", 0.04 + 0.9 * share / 100))\" stroke=\"#fff\"/>"
                    let ink = share > 55 ? "#fff" : "#000"
                    body += SVG.text(
                        x + cell / 2, y + cell / 2 - 1, String(format: "%.1f %%", share), anchor: "middle",
                        size: cell >= 42 ? 10 : 8, fill: ink)
                    body += SVG.text(
                        x + cell / 2, y + cell / 2 + 11, "\(sum[t][p])", anchor: "middle", size: cell >= 42 ? 9 : 7,
                        fill: ink)
                    csv += FigureCSV.line([
                        variant, classes[t], classes[p], String(sum[t][p]), FigureCSV.number(share),
                    ])
                }
            }
        }
        let rows = (matrices.count + columns - 1) / columns
        let missing = report.variants.map(\.name).filter { name in !matrices.contains { $0.0 == name } }
        var caption =
            "One matrix per variant: rows are the true class, columns the predicted class, counts summed over the "
            + "variant's seeds at each cell's best epoch on the validation set. Each square shows the row percentage "
            + "(its count over the true class's total; each row sums to 100 %) above the count; the shade is the row "
            + "percentage (white 0 %, dark blue 100 %), so the diagonal reads as per-class recall."
        if !missing.isEmpty {
            caption += " No confusion matrix recorded, so not drawn: \(missing.joined(separator: ", "))."
        }
        return ReportFigure(
            name: name, number: 0, title: "\(title) (true × predicted, best epoch, summed over seeds)",
            caption: caption, width: max(Double(columns) * block + 20, 420),
            height: Double(rows) * blockHeight + 20, svgBody: body, omission: nil, csv: csv)
    }
}
