// Scheduler+FinishedCells: how many cells of a running sweep have finished, for the report refresher.
import CoordinatorKit

extension Scheduler {
    /// Cells in state `done` (from the status rows; called at most once a second).
    var finishedCellCount: Int {
        statusReply(now: 0).rows.filter { $0.state == CellState.done.rawValue }.count
    }
}
