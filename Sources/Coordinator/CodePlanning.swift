// CodePlanning: what code hashing changes when a sweep is planned again — cells kept from before it, code changes announced.
import Foundation

/// Planning a sweep over a state directory with its command cells' code (`CodeFiles`).
public enum CodePlanning {
    /// `plan` (whose cells carry their code) with the cells an earlier release finished kept. A planned cell with
    /// code whose id is new, but whose id without code (`legacy`: the same sweep planned without code, cell for
    /// cell) names a done cell planned before code was hashed, takes that cell's id when that cell's code is unknown
    /// (`LedgerCode.unknown`: the first planning with code) or was assumed, at an earlier such planning, to be the
    /// code the cell has now (the same hash). The first time, the kept cell's code is assumed to be the current
    /// code (`CodeRecord.assumed`), so a later edit of the code gives new cells as for any other cell.
    /// - Returns: the plan (a kept cell has the kept id and the assumed record as its code), the records to store as
    ///   the kept cells' assumed code by cell id (`Ledger.assumeCode`, first time only), and how many cells each
    ///   variant kept the first time.
    public static func keepingEarlierCells(
        _ plan: SweepPlan, legacy: SweepPlan, cells: [CellRecord], codes: [String: LedgerCode]
    ) -> (plan: SweepPlan, assumed: [String: CodeRecord], kept: [String: Int]) {
        let done = Set(cells.filter { $0.state == .done }.map(\.id))
        let known = Set(cells.map(\.id))
        var assumed: [String: CodeRecord] = [:]
        var kept: [String: Int] = [:]
        func keep(_ planned: [PlannedCell], _ old: [PlannedCell]) -> [PlannedCell] {
            guard planned.count == old.count else { return planned }
            return zip(planned, old).map { cell, earlier in
                guard var code = cell.code, !known.contains(cell.id), done.contains(earlier.id) else { return cell }
                switch codes[earlier.id] {
                case .unknown?:
                    code.assumed = true
                    assumed[earlier.id] = code
                    kept[cell.variant, default: 0] += 1
                case .known(let record)? where record.assumed == true && record.sha256 == code.sha256:
                    code = record
                default:
                    return cell
                }
                var adopted = cell
                adopted.id = earlier.id
                adopted.code = code
                return adopted
            }
        }
        var result = plan
        result.cells = keep(plan.cells, legacy.cells)
        result.laterCells = keep(plan.laterCells, legacy.laterCells)
        return (result, assumed, kept)
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
