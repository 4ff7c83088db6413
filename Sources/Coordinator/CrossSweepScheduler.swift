// CrossSweepScheduler: which sweep's cell goes next when a worker slot is free — a pure state machine.

/// A cell as a sweep submits it to the `CrossSweepScheduler`: its content-addressed id, the cell it needs done
/// first (its stage-1 job), and what the sweep's ledger says of it.
public struct CrossSweepCell: Sendable, Equatable {
    /// Where a cell stands. A cell submitted as `.running` (left running by an earlier coordinator) is taken as
    /// `.pending`: it runs again when picked, or the coordinator `start`s it on the slot its worker comes back with.
    public enum State: Sendable, Equatable {
        case pending, running, done, failed
    }

    public var id: String
    /// The id of the cell whose result this one needs (a stage-2 cell's stage-1 job), in any sweep.
    public var dependsOn: String?
    public var state: State

    public init(id: String, dependsOn: String? = nil, state: State = .pending) {
        self.id = id
        self.dependsOn = dependsOn
        self.state = state
    }
}

/// The next cell to start: `cell`, owned by `sweep`.
public struct CrossSweepPick: Sendable, Equatable, CustomStringConvertible {
    public var sweep: String
    public var cell: String

    public init(sweep: String, cell: String) {
        self.sweep = sweep
        self.cell = cell
    }

    public var description: String { "\(sweep)/\(cell)" }
}

/// Why an event was refused; the state is unchanged then.
public enum CrossSweepError: Error, Sendable, Equatable {
    case unknownSweep(String)
    case duplicateSweep(String)
    /// A weight below 1.
    case invalidWeight(Int)
    case unknownCell(String)
    /// The cell is not ready: running, finished, its dependency is not done, or its sweep is paused.
    case notReady(String)
    /// The slot already runs `cell`.
    case slotBusy(slot: String, cell: String)
}

/// The coordinator's decision across sweeps: when a worker slot is free, which sweep's cell goes next. Pure (no
/// I/O, no clock: `now` is an argument, in seconds), so the policy is tested with a manual clock; the loop that
/// serves many sweeps feeds it events and asks `pick(now:)`, then starts the cell it names and reports it with
/// `start(_:slot:now:)`. `pick` changes nothing: only events do. Each sweep's own `Scheduler` still owns its
/// cells' attempts, files and fencing; this type only orders the sweeps.
///
/// Policy (docs/scheduling.md), applied among the sweeps that are *eligible* (not paused, at least one ready cell):
/// 1. **Priority, strictly.** The sweep with the highest effective priority goes first, however many cells it
///    already runs. The effective priority is the sweep's `priority` (default 0), plus, when ageing is on, one per
///    `agingInterval` seconds it has been *starved*: eligible with no cell running. A starved sweep beats the sweeps
///    of its priority that run cells anyway, so ageing only lifts it over higher priorities and never
///    changes fair share within one; it bounds how long a sweep with ready cells can be left with nothing running.
///    Ageing is off by default: then a sweep of lower priority starves while a higher one has ready cells, which
///    is intended, as in Slurm (priority is the operator's word).
/// 2. **Fair share within a priority.** Fewest running cells per unit of weight (`running / weight`, compared
///    exactly as `a.running × b.weight < b.running × a.weight`; weights default to 1). Running cells are never
///    preempted: a newcomer gets its share as running cells finish.
/// 3. **Ties:** the least recently served sweep (the one whose latest `start` is oldest; never served first),
///    then the earliest submission time, then the name. Names are unique, so the order is total and the same
///    event sequence always gives the same picks.
///
/// Within the chosen sweep the first ready cell in the sweep's own order goes (plans list stage-1 jobs first).
/// A cell is *ready* when it is pending and its dependency (`dependsOn`) is done; the scheduler tracks dependencies
/// itself, so `finish` of a stage-1 job is what makes its stage-2 cells ready. A dependency it does not know is
/// not done (submit it, as `.done` if the ledger says so); one that failed fails its dependents.
///
/// Shared cells: a cell id is owned by exactly one sweep, the first to submit it. A later sweep that submits the
/// same id does not get a second copy: the id is recorded as *borrowed* by it, and its cells that depend on it
/// wait for the owner's run. The cell counts toward its owner's share only. When the owner is removed, a cell that
/// another live sweep borrows or depends on passes, with its state (running cells keep running), to the earliest
/// submitted such sweep, at the front of its order; the owner's other cells are dropped.
public struct CrossSweepScheduler: Sendable {
    /// One sweep's state as the scheduler sees it.
    public struct Sweep: Sendable, Equatable {
        public let name: String
        /// Higher goes first; may be negative.
        public internal(set) var priority: Int
        /// Its share of the slots relative to the others of its priority (at least 1).
        public internal(set) var weight: Int
        public let submittedAt: Double
        /// A paused sweep gets no new cell; its running cells go on.
        public internal(set) var paused = false
        /// The cells it owns, in its own order.
        public internal(set) var order: [String] = []
        /// Cells it submitted that another sweep owns (shared content-addressed cells it waits on).
        public internal(set) var borrowed: [String] = []
        /// Its cells now running.
        public internal(set) var running: Set<String> = []
        /// The serial of its latest `start` (0: never served); a larger serial is more recent.
        public internal(set) var lastServed = 0
        /// Since when it has been starved, eligible with no cell running (nil otherwise): ageing counts from it.
        public internal(set) var waitingSince: Double?
    }

    /// A cell's entry: its owner, dependency, state and slot.
    struct Entry: Sendable, Equatable {
        var owner: String
        var dependsOn: String?
        var state: CrossSweepCell.State
        var slot: String?
    }

    /// Seconds of waiting that raise a sweep's effective priority by one; nil (the default) turns ageing off.
    public let agingInterval: Double?
    public internal(set) var sweeps: [String: Sweep] = [:]
    var cells: [String: Entry] = [:]
    /// The cell each busy slot runs.
    public internal(set) var slots: [String: String] = [:]
    /// The serial of the latest `start`.
    var serveSerial = 0

    /// An empty scheduler; `agingInterval` (seconds, above 0) turns ageing on.
    public init(agingInterval: Double? = nil) {
        self.agingInterval = agingInterval.flatMap { $0 > 0 ? $0 : nil }
    }

    // MARK: - Queries

    /// The sweep's cells that are ready, in its order.
    public func ready(of sweep: String) -> [String] {
        sweeps[sweep]?.order.filter(isReady) ?? []
    }

    /// The state of a cell; nil when unknown.
    public func state(of cell: String) -> CrossSweepCell.State? { cells[cell]?.state }

    /// The sweep that owns a cell; nil when unknown.
    public func owner(of cell: String) -> String? { cells[cell]?.owner }

    /// The slot a running cell occupies.
    public func slot(of cell: String) -> String? { cells[cell]?.slot }

    /// Whether every cell the sweep owns or borrows is done or failed.
    public func isFinished(_ sweep: String) -> Bool {
        guard let state = sweeps[sweep] else { return false }
        return (state.order + state.borrowed).allSatisfy { id in
            cells[id].map { $0.state == .done || $0.state == .failed } ?? true
        }
    }

    /// The sweep's priority at `now`: its own, plus one per `agingInterval` seconds it has waited (when on).
    public func effectivePriority(of sweep: String, now: Double) -> Int? {
        guard let state = sweeps[sweep] else { return nil }
        return effectivePriority(state, now: now)
    }

    func effectivePriority(_ sweep: Sweep, now: Double) -> Int {
        guard let interval = agingInterval, let since = sweep.waitingSince, now > since else { return sweep.priority }
        let steps = ((now - since) / interval).rounded(.down)
        return sweep.priority + Int(min(steps, Double(Int32.max)))
    }

    func isReady(_ id: String) -> Bool {
        guard let entry = cells[id], entry.state == .pending else { return false }
        guard let dependency = entry.dependsOn else { return true }
        return cells[dependency]?.state == .done
    }

    /// Whether the sweep may get a cell now: not paused and with a ready cell.
    func isEligible(_ sweep: Sweep) -> Bool {
        !sweep.paused && sweep.order.contains(where: isReady)
    }

    // MARK: - The decision

    /// The cell to start next on a free slot, by the policy above; nil when no eligible sweep has a ready cell.
    /// Changes nothing: report the start with `start(_:slot:now:)`.
    public func pick(now: Double) -> CrossSweepPick? {
        var best: (sweep: Sweep, cell: String, priority: Int)?
        for sweep in sweeps.values where !sweep.paused {
            guard let cell = sweep.order.first(where: isReady) else { continue }
            let priority = effectivePriority(sweep, now: now)
            if let current = best, !Self.precedes(sweep, priority, current.sweep, current.priority) { continue }
            best = (sweep, cell, priority)
        }
        return best.map { CrossSweepPick(sweep: $0.sweep.name, cell: $0.cell) }
    }

    /// The policy's total order: whether sweep `a` (of effective priority `pa`) goes before sweep `b`.
    static func precedes(_ a: Sweep, _ pa: Int, _ b: Sweep, _ pb: Int) -> Bool {
        SweepStanding(a, priority: pa).goesFirst(before: SweepStanding(b, priority: pb))
    }
}

/// What the policy compares of a sweep: its (effective) priority, weight, running cells, the serial of its latest
/// start, its submission time and its name.
public struct SweepStanding: Sendable, Equatable {
    public var name: String
    public var priority: Int
    public var weight: Int
    public var running: Int
    public var lastServed: Int
    public var submittedAt: Double

    public init(name: String, priority: Int, weight: Int = 1, running: Int, lastServed: Int, submittedAt: Double) {
        self.name = name
        self.priority = priority
        self.weight = weight
        self.running = running
        self.lastServed = lastServed
        self.submittedAt = submittedAt
    }

    init(_ sweep: CrossSweepScheduler.Sweep, priority: Int) {
        self.init(
            name: sweep.name, priority: priority, weight: sweep.weight, running: sweep.running.count,
            lastServed: sweep.lastServed, submittedAt: sweep.submittedAt)
    }

    /// The policy's total order (docs/scheduling.md): higher priority; then fewer running cells per weight
    /// (`a.running × b.weight < b.running × a.weight`); then least recently served; then earlier submission; then name.
    public func goesFirst(before other: SweepStanding) -> Bool {
        if priority != other.priority { return priority > other.priority }
        let share = running * other.weight
        let otherShare = other.running * weight
        if share != otherShare { return share < otherShare }
        if lastServed != other.lastServed { return lastServed < other.lastServed }
        if submittedAt != other.submittedAt { return submittedAt < other.submittedAt }
        return name < other.name
    }
}

extension CrossSweepScheduler {

    /// Picks and starts a cell for each free slot in turn (`slots` in the order given); returns the starts made,
    /// stopping when no cell is ready. Busy slots are skipped.
    @discardableResult
    public mutating func fill(slots free: [String], now: Double) -> [(slot: String, pick: CrossSweepPick)] {
        var started: [(slot: String, pick: CrossSweepPick)] = []
        for slot in free where slots[slot] == nil {
            guard let next = pick(now: now) else { break }
            do {
                try start(next.cell, slot: slot, now: now)
                started.append((slot, next))
            } catch {
                break  // Unreachable: a picked cell is ready and the slot is free.
            }
        }
        return started
    }
}
