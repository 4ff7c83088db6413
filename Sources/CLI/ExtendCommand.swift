// ExtendCommand: `ablate extend`, more seeds for a running sweep's variants.
import ArgumentParser
import Foundation
import WireProtocol

/// Adds seeds to every variant of a running sweep (or one): their cells are planned by the sweep's own rules and run
/// like the others; seeds a variant already has are reported, not added again. A coordinator restart keeps them.
struct ExtendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extend", abstract: "Add seeds to a running sweep's variants (or one variant).")

    @Argument(help: "The sweep's name.") var name: String
    @Option(help: ArgumentHelp("The seeds to add, comma-separated (e.g. 45,46).", valueName: "seeds"))
    var seeds: String
    @Option(help: "Only this variant.") var variant: String?
    @OptionGroup var control: ControlOptions

    func validate() throws { _ = try parsedSeeds() }

    /// `--seeds` as distinct non-negative integers, at most `FieldLimits.maxControlSeeds`.
    func parsedSeeds() throws -> [UInt64] {
        var out: [UInt64] = []
        for part in seeds.split(separator: ",", omittingEmptySubsequences: false) {
            let text = part.trimmingCharacters(in: .whitespaces)
            guard let seed = UInt64(text) else {
                throw ValidationError("--seeds: '\(text)' is not a non-negative integer")
            }
            guard !out.contains(seed) else { throw ValidationError("--seeds: \(seed) is given twice") }
            out.append(seed)
        }
        guard out.count <= FieldLimits.maxControlSeeds else {
            throw ValidationError("--seeds: at most \(FieldLimits.maxControlSeeds) seeds at once")
        }
        return out
    }

    func run() throws {
        try control.run(.extend, sweep: name, variant: variant, seeds: try parsedSeeds()) { result in
            [result.message] + (result.cells ?? []).map { "added: \($0.variant) seed \($0.seed) (\($0.id.prefix(12)))" }
        }
    }
}
