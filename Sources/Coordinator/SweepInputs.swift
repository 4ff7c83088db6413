// SweepInputs: reads `inputs:` (files and directories a command needs, by name) of the train block or a variant.
import Foundation
import WireProtocol
import Yams

/// One input as written: its name, the absolute path it names (resolved against the sweep file's directory) and
/// where it is written.
public struct SweepInput: Sendable, Equatable {
    /// `[a-z][a-z0-9_]{0,31}` (`InputsField.nameProblem`); the command finds the path in `ABLATE_INPUT_<NAME>`.
    public var name: String
    public var path: String
    public var location: SweepKeyLocation

    public init(name: String, path: String, location: SweepKeyLocation) {
        self.name = name
        self.path = path
        self.location = location
    }
}

/// The inputs of one block as read, and where its `inputs` key is.
struct InputsBlock {
    var inputs: [SweepInput] = []
    var entry: SweepEntry?
}

/// `inputs: {name: path, …}`: each path, relative to the sweep file's directory or absolute, names a file or a
/// directory; it is checked on disk and hashed when the sweep is planned (`InputFiles`). A variant's entries add to
/// the `train` block's or replace them by name.
enum SweepInputs {
    static let key = "inputs"

    /// The message for `inputs` of a variant that runs the native trainer.
    static let nativeMessage = "inputs are given to commands only; the native trainer reads the dataset alone"

    /// Reads an `inputs` entry; `bad` when any part of it could not be read (the rest is still checked).
    static func read(_ entry: SweepEntry, directory: String, reader: inout SweepReader) -> (
        block: InputsBlock, bad: Bool
    ) {
        var block = InputsBlock(entry: entry)
        guard let items = reader.entries(of: entry.value, path: entry.path) else { return (block, true) }
        var bad = false
        for item in items {
            if let problem = InputsField.nameProblem(item.key) {
                reader.report(item, "an input name \(problem)")
                bad = true
                continue
            }
            guard let text = reader.string(item) else {
                bad = true
                continue
            }
            if text.isEmpty || text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                reader.report(item, "expected the path of a file or directory, without control characters")
                bad = true
                continue
            }
            block.inputs.append(
                SweepInput(
                    name: item.key, path: SweepParser.absolutePath(text, in: directory),
                    location: SweepParser.location(of: item)))
        }
        return (block, bad)
    }

    /// The `train` block's inputs with a variant's over them by name, sorted by name.
    static func merged(_ train: [SweepInput], _ own: [SweepInput]) -> [SweepInput] {
        var byName: [String: SweepInput] = [:]
        for input in train + own { byName[input.name] = input }
        return byName.values.sorted { $0.name < $1.name }
    }
}
