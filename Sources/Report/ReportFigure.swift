// ReportFigure: one figure of the report — its SVG, caption and plotted data, as inline HTML or standalone files.
import Foundation

/// A figure with its caption and the exact numbers it draws; `svgBody` is nil when the figure is left out, and
/// `omission` then says why.
public struct ReportFigure: Sendable, Equatable {
    /// The file stem of `--figures` (`learning-curves` → learning-curves.svg, learning-curves.csv).
    public var name: String
    /// The figure's number on the page (1, 2, …, over the figures drawn).
    public var number: Int
    public var title: String
    /// What every line, band, interval and marker is (the text after the title in the caption).
    public var caption: String
    public var width: Double
    public var height: Double
    /// The SVG elements; nil when the figure is left out.
    public var svgBody: String?
    /// Why the figure is left out (nil when drawn).
    public var omission: String?
    /// The plotted data: a header line and one line per plotted value.
    public var csv: String

    /// The figure's full caption: "Figure n. Title. Explanation".
    public var fullCaption: String { "Figure \(number). \(title). \(caption)" }

    /// The `<svg>` element (nil when left out): namespace, size and view box, font, the caption as title and desc.
    public var svg: String? {
        guard let svgBody else { return nil }
        let w = SVG.n(width)
        let h = SVG.n(height)
        return
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\" role=\"img\">"
            + "<title>\(SVGPlots.escape("Figure \(number). \(title)"))</title><desc>\(SVGPlots.escape(caption))</desc>"
            + "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>" + svgBody + "</svg>"
    }

    /// A standalone SVG file's text (XML declaration first); nil when left out.
    public var standaloneSVG: String? { svg.map { "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + $0 + "\n" } }

    /// The HTML `<figure>` with its visible `<figcaption>`, or a paragraph saying why the figure is left out.
    public var html: String {
        guard let svg else {
            return
                "<p class=\"omitted\">\(SVGPlots.escape(title)): not drawn — \(SVGPlots.escape(omission ?? ""))</p>\n"
        }
        return "<figure id=\"\(name)\">\(svg)<figcaption><strong>Figure \(number). \(SVGPlots.escape(title)).</strong> "
            + "\(SVGPlots.escape(caption))</figcaption></figure>\n"
    }

    /// A figure that is left out, with the reason.
    static func omitted(_ name: String, title: String, because reason: String, header: String) -> ReportFigure {
        ReportFigure(
            name: name, number: 0, title: title, caption: "", width: 0, height: 0, svgBody: nil, omission: reason,
            csv: header + "\n")
    }
}

/// The CSV text of the figures' data files.
enum FigureCSV {
    /// One CSV line of `fields`, quoted where they hold a comma, quote or line break.
    static func line(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",") + "\n"
    }

    /// A number for a figure's CSV: shortest round-tripping decimal, empty for a non-finite value.
    static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "" }
}
