// CodePlanning: what code hashing changes when a sweep is planned again — cells kept from before it, code changes announced.
import Foundation

/// Planning a sweep over a state directory with its command cells' code (`CodeFiles`).
public enum CodePlanning {
    /// `plan` (whose cells carry their code) with the cells an earlier release finished kept: a planned cell with
    /// code whose id is new, but whose id without code (`legacy`, the same sweep planned without code, cell for
    /// cell) names a done cell that was planned before code was hashed (`LedgerCode.unknown`), takes that cell's id
    /// and loses its code (unknown). Returns the plan and how many cells each variant kept.
    public static func keepingEarlierCells(
        _ plan: SweepPlan, legacy: SweepPlan, cells: [CellRecord], codes: [String: LedgerCode]
    ) -> (plan: SweepPlan, kept: [String: Int]) {
        let done = Set(cells.filter { $0.state == .done }.map(\.id))
        let known = Set(cells.map(\.id))
        var kept: [String: Int] = [:]
        func keep(_ planned: [PlannedCell], _ old: [PlannedCell]) -> [PlannedCell] {
            guard planned.count == old.count else { return planned }
            return zip(planned, old).map { cell, earlier in
                guard cell.code != nil, !known.contains(cell.id), done.contains(earlier.id),
                    codes[earlier.id] == .unknown
                else { return cell }
                var adopted = cell
                adopted.id = earlier.id
                adopted.code = nil
                kept[cell.variant, default: 0] += 1
                return adopted
            }
        }
        var result = plan
        result.cells = keep(plan.cells, legacy.cells)
        result.laterCells = keep(plan.laterCells, legacy.laterCells)
        return (result, kept)
    }

    /// One line per variant whose code changed: a new planned cell (its id not in the ledger before) whose variant
    /// and seed name a done cell whose code differs from the new cell's (a done cell of unknown code does not count).
    /// `variant poly: code changed, 3 new cells`, in plan order.
    public static func changes(_ plan: SweepPlan, before: [CellRecord], codes: [String: LedgerCode]) -> [String] {
        let known = Set(before.map(\.id))
        var doneCode: [String: Set<String>] = [:]
        for cell in before where cell.state == .done {
            let code: String
            switch codes[cell.id] {
            case .unknown?: continue
            case .known(let record)?: code = record.sha256
            case nil: code = "none"
            }
            doneCode["\(cell.variant)\u{0}\(cell.seed)", default: []].insert(code)
        }
        var order: [String] = []
        var newCells: [String: Int] = [:]
        var changed: Set<String> = []
        for cell in plan.cells where !known.contains(cell.id) {
            if newCells[cell.variant] == nil { order.append(cell.variant) }
            newCells[cell.variant, default: 0] += 1
            let code = cell.code?.sha256 ?? "none"
            if let earlier = doneCode["\(cell.variant)\u{0}\(cell.seed)"], !earlier.isEmpty, !earlier.contains(code) {
                changed.insert(cell.variant)
            }
        }
        return order.filter(changed.contains).map { variant in
            let count = newCells[variant] ?? 0
            return "variant \(variant): code changed, \(count) new cell\(count == 1 ? "" : "s")"
        }
    }
}
