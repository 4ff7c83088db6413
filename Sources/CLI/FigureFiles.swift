// FigureFiles: `ablate report --figures DIR` — each drawn figure as a standalone SVG and the CSV of its data, atomically.
import AblateSupport
import Foundation
import ReportKit

/// Writes the report's figures into a directory (made with its parents as needed): `<name>.svg` and `<name>.csv`
/// per drawn figure (docs/report-format.md). A failed write removes what this call wrote and the directories it made.
enum FigureFiles {
    /// The paths written, in order, and the outermost directory made (nil when `directory` existed), for `undo`.
    static func write(_ figures: [ReportFigure], to directory: String) throws -> (paths: [String], created: String?) {
        let created = try Directories.create(directory)
        var written: [String] = []
        do {
            for figure in figures {
                guard let svg = figure.standaloneSVG else { continue }
                for (path, text) in [
                    ("\(directory)/\(figure.name).svg", svg), ("\(directory)/\(figure.name).csv", figure.csv),
                ] {
                    try AtomicFile.write(Array(text.utf8), to: path, overwrite: .replace)
                    written.append(path)
                }
            }
        } catch {
            undo(written, created: created)
            throw error
        }
        return (written, created)
    }

    /// Removes `written` and the outermost directory the write made (nil: it existed before).
    static func undo(_ written: [String], created: String?) {
        for path in written { try? FileManager.default.removeItem(atPath: path) }
        if let created { try? FileManager.default.removeItem(atPath: created) }
    }
}
