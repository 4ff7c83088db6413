// Scheduler+Control: a client's CONTROL on the served sweep — list, cancel, resume, retry and extend, as pure events.
import WireProtocol

/// The cells an `extend` would add, planned by the loop from the sweep (`SweepPlan.extensionCells`): the requested
/// (variant, seed) pairs in order, each with its cell as the ledger would store it, or why none can be planned.
public struct ExtensionCandidates: Sendable, Equatable {
    public var targets: [ExtensionSeed]
    public var cells: [ExtensionSeed: CellRecord]
    public var commands: [String: CellCommand]
    /// Lines about variants left out (a replica variant when no `variant` was named).
    public var notes: [String]
    /// Why the request cannot be planned (an adaptive sweep, an unknown or replica variant); nil when it can.
    public var refusal: String?

    public init(
        targets: [ExtensionSeed] = [], cells: [ExtensionSeed: CellRecord] = [:], commands: [String: CellCommand] = [:],
        notes: [String] = [], refusal: String? = nil
    ) {
        self.targets = targets
        self.cells = cells
        self.commands = commands
        self.notes = notes
        self.refusal = refusal
    }
}

extension Scheduler {
    /// One CONTROL from `peer`, acted for `client` (the key's name, or `loopback`; it goes in the log line). The
    /// request names the sweep: another name is refused with the one this coordinator serves. `extend` takes its
    /// cells from `extension` (planned by the loop); without them it is refused.
    ///
    /// - `cancel [variant]`: the variant (or every variant) joins `cancelledVariants` (stored first); each of its
    ///   running cells is sent CANCEL and goes back to pending with the attempt ended `cancelled` (no failure
    ///   counted, its checkpoints kept, so a later attempt resumes from the last one); none of its cells is assigned
    ///   until `resume`. A sweep whose remaining cells are cancelled is not finished: idle workers keep their session.
    /// - `resume [variant]`: lifts the cancellation; the cells are assigned again.
    /// - `retry`: `RetryRule` over the planned cells, as `ablate retry --state` does offline.
    /// - `extend`: the cells of the requested seeds that are not planned yet are stored and added to the plan.
    /// - `sweeps`: the served sweep's progress.
    /// - `report`: the report file the loop read (`report`, held for FETCH), or a refusal when there is none yet.
    public mutating func control(
        _ request: ControlRequest, from peer: PeerID, client: String, extension candidates: ExtensionCandidates?,
        report: ControlReportFile? = nil, now: Double
    ) -> [SchedulerAction] {
        let id = request.requestId
        func refuse(_ error: String) -> [SchedulerAction] {
            [
                .send(peer, .controlReply(.refused(id, error))),
                .log("\(request.action.rawValue) by \(client) refused: \(error)", level: .notice),
            ]
        }
        // `sweeps` alone may leave the sweep unnamed.
        guard request.sweep == sweepName || (request.action == .sweeps && request.sweep.isEmpty) else {
            return refuse("no sweep named '\(request.sweep)' (this coordinator serves: \(sweepName))")
        }
        // `sweeps` looks at no variant: one it names is not checked.
        let variants = variantNames
        if request.action != .sweeps, let variant = request.variant, !variants.contains(variant) {
            return refuse(
                "sweep \(sweepName) has no variant '\(variant)' (variants: \(variants.joined(separator: ", ")))")
        }
        switch request.action {
        case .sweeps:
            let summary = sweepSummary(now: now)
            let message = "1 sweep: \(sweepName)"
            return [
                reply(
                    request,
                    ControlResult(message: message, sweeps: [summary], cancelledVariants: summary.cancelledVariants),
                    peer: peer)
            ]
        case .cancel: return cancel(request, peer: peer, client: client, now: now)
        case .resume: return resume(request, peer: peer, client: client, now: now)
        case .retry:
            do throws(RetryRule.Refusal) {
                let ids = try RetryRule.select(
                    failed: request.failed == true, variant: request.variant, prefixes: request.cells ?? [],
                    planned: plannedCells, all: plannedCells)
                let retried = try RetryRule.apply(ids, to: plannedCells, at: now)
                return retry(retried, request: request, peer: peer, client: client, now: now)
            } catch {
                return refuse(error.message)
            }
        case .extend:
            guard let candidates else { return refuse("this coordinator cannot plan new cells") }
            if let refusal = candidates.refusal { return refuse(refusal) }
            return extend(candidates, request: request, peer: peer, client: client, now: now)
        case .report:
            let name = request.format?.fileName ?? "report"
            guard let report else {
                return refuse("sweep \(sweepName) has no \(name) yet: reports are written as its cells finish")
            }
            return [
                reply(
                    request,
                    ControlResult(message: "\(name) of sweep \(sweepName): \(report.size) bytes", report: report),
                    peer: peer),
                .log("\(name) of sweep \(sweepName) sent to \(client)", level: .info),
            ]
        }
    }

    /// The names of the variants of the plan, in plan order.
    public var variantNames: [String] {
        var seen = Set<String>()
        return order.compactMap { cells[$0]?.variant }.filter { seen.insert($0).inserted }
    }

    /// The planned cells in plan order.
    var plannedCells: [CellRecord] { order.compactMap { cells[$0] } }

    /// Whether `cell` waits in a cancelled variant (pending, never assigned until resumed).
    public func isCancelled(_ cell: CellRecord) -> Bool {
        cell.state == .pending && cancelledVariants.contains(cell.variant)
    }

    /// The served sweep's line of a `sweeps` reply.
    public func sweepSummary(now: Double) -> SweepSummary {
        let all = plannedCells
        let cancelled = all.filter(isCancelled).count
        return SweepSummary(
            name: sweepName, cells: all.count, done: all.filter { $0.state == .done }.count,
            running: all.filter { $0.state == .running }.count,
            pending: all.filter { $0.state == .pending }.count - cancelled,
            failed: all.filter { $0.state == .failed }.count, cancelled: cancelled,
            etaSeconds: cancelled > 0 ? nil : statusReply(now: now).summary?.etaSeconds,
            cancelledVariants: cancelledVariants.sorted(), verdicts: verdicts.isEmpty ? nil : verdicts)
    }

    private func controlCell(_ cell: CellRecord) -> ControlCell {
        ControlCell(
            id: cell.id, variant: cell.variant, seed: cell.seed,
            state: isCancelled(cell) ? "cancelled" : cell.state.rawValue)
    }

    private func reply(_ request: ControlRequest, _ result: ControlResult, peer: PeerID) -> SchedulerAction {
        .send(peer, .controlReply(ControlReply(requestId: request.requestId, ok: true, result: result)))
    }

    /// The end every control action shares, after its own `actions`: the log line (`message`, by `client`), the
    /// reply to `peer` with `cells` (and `existing`) and the cancelled variants after the action, then
    /// `assignments`, or when nil the assignments that follow now.
    private mutating func conclude(
        _ request: ControlRequest, message: String, cells: [ControlCell], existing: [ControlCell]? = nil,
        client: String, peer: PeerID, now: Double, after actions: [SchedulerAction],
        assignments: [SchedulerAction]? = nil
    ) -> [SchedulerAction] {
        let result = ControlResult(
            message: message, cells: cells, existing: existing, cancelledVariants: cancelledVariants.sorted())
        return actions + [
            .log("\(message) (by \(client))", level: .notice), reply(request, result, peer: peer),
        ] + (assignments ?? assign(now: now))
    }

    private func scope(_ request: ControlRequest) -> String {
        request.variant.map { "variant \($0) of sweep \(sweepName)" } ?? "sweep \(sweepName)"
    }

    private mutating func cancel(_ request: ControlRequest, peer: PeerID, client: String, now: Double)
        -> [SchedulerAction]
    {
        let chosen = Set(request.variant.map { [$0] } ?? variantNames)
        cancelledVariants.formUnion(chosen)
        var actions: [SchedulerAction] = [.saveCancelled(cancelledVariants)]
        var stopped = 0
        for id in order {
            guard let cell = cells[id], chosen.contains(cell.variant), cell.state == .running else { continue }
            stopped += 1
            let reason = "cancelled by \(client)"
            orphanDeadline[id] = nil
            for (sessionID, session) in sessions.sorted(by: { $0.key < $1.key }) where session.held[id] == cell.attempt
            {
                sessions[sessionID]?.held[id] = nil
                actions.append(.send(session.peer, .cancel(Cancel(cell: id, attempt: cell.attempt, reason: reason))))
            }
            actions += requeue(id, now: now, outcome: "cancelled", reason: reason)
        }
        let held = plannedCells.filter { chosen.contains($0.variant) && isCancelled($0) }
        let message =
            "cancelled \(scope(request)): \(stopped) running cell\(stopped == 1 ? "" : "s") stopped, \(held.count) cell\(held.count == 1 ? "" : "s") held"
        return conclude(
            request, message: message, cells: held.map(controlCell), client: client, peer: peer, now: now,
            after: actions)
    }

    private mutating func resume(_ request: ControlRequest, peer: PeerID, client: String, now: Double)
        -> [SchedulerAction]
    {
        let chosen = Set(request.variant.map { [$0] } ?? variantNames)
        let released = plannedCells.filter { chosen.contains($0.variant) && isCancelled($0) }
        cancelledVariants.subtract(chosen)
        let message =
            "resumed \(scope(request)): \(released.count) cell\(released.count == 1 ? "" : "s") may run again"
        let cells = released.compactMap { self.cells[$0.id] }.map(controlCell)
        return conclude(
            request, message: message, cells: cells, client: client, peer: peer, now: now,
            after: [.saveCancelled(cancelledVariants)])
    }

    private mutating func retry(
        _ retried: [CellRecord], request: ControlRequest, peer: PeerID, client: String, now: Double
    ) -> [SchedulerAction] {
        var actions: [SchedulerAction] = []
        if !retried.isEmpty { finishAnnounced = false }
        for cell in retried {
            cells[cell.id] = cell
            actions.append(.saveCell(cell, starting: nil, ending: nil))
        }
        let message =
            "retried \(retried.count) cell\(retried.count == 1 ? "" : "s") of sweep \(sweepName) with a fresh attempt budget"
        return conclude(
            request, message: message, cells: retried.map(controlCell), client: client, peer: peer, now: now,
            after: actions)
    }

    private mutating func extend(
        _ candidates: ExtensionCandidates, request: ControlRequest, peer: PeerID, client: String, now: Double
    ) -> [SchedulerAction] {
        var existing: [CellRecord] = []
        var added: [CellRecord] = []
        var seeds: [ExtensionSeed] = []
        var position = (order.compactMap { cells[$0]?.position }.max() ?? -1) + 1
        for target in candidates.targets {
            guard var record = candidates.cells[target] else { continue }
            if let held = cells[record.id]
                ?? plannedCells.first(where: {
                    $0.variant == target.variant && $0.seed == target.seed
                })
            {
                existing.append(held)
                continue
            }
            record.position = position
            position += 1
            added.append(record)
            seeds.append(target)
        }
        var message =
            "extended \(scope(request)): \(added.count) cell\(added.count == 1 ? "" : "s") added"
        if !existing.isEmpty {
            let listed = existing.map { "\($0.variant)/seed-\($0.seed)" }.joined(separator: ", ")
            message += "; already planned: \(listed)"
        }
        for note in candidates.notes { message += "; \(note)" }
        var actions: [SchedulerAction] = []
        if !added.isEmpty { actions.append(.extendPlan(seeds: seeds, cells: added)) }
        // The reply follows the stored plan; the assignments follow the reply.
        let commands = candidates.commands.filter { id, _ in added.contains { $0.id == id } }
        let assignments = addCells(added, now: now, commands: commands)
        return conclude(
            request, message: message, cells: added.compactMap { cells[$0.id] }.map(controlCell),
            existing: existing.map(controlCell), client: client, peer: peer, now: now, after: actions,
            assignments: assignments)
    }
}
