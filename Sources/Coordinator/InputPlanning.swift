// InputPlanning: the lines that say which variants' inputs changed when a sweep is planned again.
import Foundation

/// Planning a sweep over a state directory with its command cells' inputs (`InputFiles`).
public enum InputPlanning {
    /// One line per variant whose inputs changed: a new planned cell (its id not in the ledger before) whose variant
    /// and seed name a done cell whose inputs (`Ledger.inputs`; none when it has no row) differ from the new cell's.
    /// `variant poly: inputs changed, 3 new cells`, in plan order.
    public static func changes(_ plan: SweepPlan, before: [CellRecord], inputs: [String: String]) -> [String] {
        let known = Set(before.map(\.id))
        var doneInputs: [String: Set<String>] = [:]
        for cell in before where cell.state == .done {
            doneInputs["\(cell.variant)\u{0}\(cell.seed)", default: []].insert(inputs[cell.id] ?? "none")
        }
        var order: [String] = []
        var newCells: [String: Int] = [:]
        var changed: Set<String> = []
        for cell in plan.cells where !known.contains(cell.id) {
            if newCells[cell.variant] == nil { order.append(cell.variant) }
            newCells[cell.variant, default: 0] += 1
            let identity = cell.inputs.isEmpty ? "none" : CellInput.identityJSON(cell.inputs)
            if let earlier = doneInputs["\(cell.variant)\u{0}\(cell.seed)"], !earlier.contains(identity) {
                changed.insert(cell.variant)
            }
        }
        return order.filter(changed.contains).map { variant in
            let count = newCells[variant] ?? 0
            return "variant \(variant): inputs changed, \(count) new cell\(count == 1 ? "" : "s")"
        }
    }
}
