// ServiceStatus: the one-line STATUS= texts the coordinator and workers give systemd.
import CoordinatorKit
import Foundation

/// Short status lines for `systemctl status`.
enum ServiceStatus {
    /// e.g. `3/10 cells done, 2 running, 0 failed; 2 workers`, with `; paused: …` after it while the coordinator
    /// is paused (a full state directory).
    static func coordinator(_ scheduler: Scheduler, paused: String? = nil) -> String {
        var counts: [CellState: Int] = [:]
        for cell in scheduler.cells.values { counts[cell.state, default: 0] += 1 }
        return "\(counts[.done] ?? 0)/\(scheduler.cells.count) cells done, \(counts[.running] ?? 0) running, "
            + "\(counts[.failed] ?? 0) failed; \(scheduler.sessions.count) worker(s)" + (paused.map { "; \($0)" } ?? "")
    }

    /// e.g. `connected; running poly/seed-42` or `connecting to tcp://…`.
    static func worker(connected: Bool, endpoint: String, jobs: [String]) -> String {
        guard connected else { return "connecting to \(endpoint)" }
        return jobs.isEmpty ? "connected; idle" : "connected; running \(jobs.joined(separator: ", "))"
    }
}
