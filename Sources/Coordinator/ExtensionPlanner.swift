// ExtensionPlanner: the cells an `ablate extend` asks for, planned from the served sweep by the rules of its own cells.
import RunSpec
import WireProtocol

/// Plans the cells of seeds a client adds to a running sweep (`ablate extend`): every variant of the sweep (or one)
/// × the requested seeds, with ids, configs and commands computed exactly as for the sweep's own cells
/// (`SweepPlan.extensionCells`, `CommandPlaceholders`). An adaptive sweep collects its own seeds and is refused; a
/// replica (A/A) variant derives its seeds from the sweep's sequence and is left out (refused when named).
public struct ExtensionPlanner: Sendable {
    public let plan: SweepPlan
    /// Each command variant's inputs as ASSIGN carries them, by variant name.
    public let inputRefs: [String: [InputRef]]

    public init(plan: SweepPlan, inputRefs: [String: [InputRef]]) {
        self.plan = plan
        self.inputRefs = inputRefs
    }

    /// The candidates for `seeds` of `variant` (nil: every variant but replicas), in variant order then seed order.
    public func candidates(variant: String?, seeds: [UInt64]) -> ExtensionCandidates {
        let sweep = plan.sweep
        if sweep.isAdaptive {
            return ExtensionCandidates(
                refusal:
                    "sweep \(sweep.name) collects its seeds adaptively (seeds: {initial, max}); extend adds seeds to a list of seeds only"
            )
        }
        var notes: [String] = []
        let variants: [SweepVariant]
        if let variant {
            guard let found = sweep.variant(named: variant) else {
                return ExtensionCandidates(refusal: "sweep \(sweep.name) has no variant '\(variant)'")
            }
            if let source = found.replicaOf {
                return ExtensionCandidates(
                    refusal:
                        "variant \(variant) is a replica of \(source): its seeds derive from the sweep's seeds, so it is not extended on its own"
                )
            }
            variants = [found]
        } else {
            variants = sweep.variants.filter { $0.replicaOf == nil }
            let replicas = sweep.variants.filter { $0.replicaOf != nil }.map(\.name)
            if !replicas.isEmpty {
                notes.append("replica variant(s) \(replicas.joined(separator: ", ")) not extended")
            }
        }
        let targets = variants.flatMap { variant in seeds.map { ExtensionSeed(variant: variant.name, seed: $0) } }
        do {
            let planned = try plan.extensionCells(for: targets)
            var cells: [ExtensionSeed: CellRecord] = [:]
            for (target, cell) in zip(targets, planned) { cells[target] = try SweepPlan.record(cell, position: 0) }
            var only = plan
            only.cells = []
            only.laterCells = []
            only.extensionCells = planned
            var commands = try CommandPlaceholders.commands(for: only)
            for cell in planned where !cell.inputs.isEmpty { commands[cell.id]?.inputs = inputRefs[cell.variant] }
            return ExtensionCandidates(targets: targets, cells: cells, commands: commands, notes: notes)
        } catch {
            return ExtensionCandidates(refusal: "cannot plan the new cells: \(error)")
        }
    }

    /// The code and inputs records of the cells of `targets`, by cell id, for `Ledger.setCode` and `setInputs`.
    public func identities(of targets: [ExtensionSeed]) throws -> (code: [String: CodeRecord], inputs: [String: String])
    {
        var code: [String: CodeRecord] = [:]
        var inputs: [String: String] = [:]
        for cell in try plan.extensionCells(for: targets) {
            code[cell.id] = cell.code
            if !cell.inputs.isEmpty { inputs[cell.id] = CellInput.identityJSON(cell.inputs) }
        }
        return (code, inputs)
    }
}
