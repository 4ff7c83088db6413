// CrossSweepScheduler+Events: the events that change the cross-sweep scheduler — sweeps, cells, slots.

extension CrossSweepScheduler {
    // MARK: - Sweeps

    /// A new sweep with its cells in its own order, submitted at `now`. An id another sweep already owns is
    /// recorded as borrowed (the returned ids), not copied. A cell listed twice counts once.
    @discardableResult
    public mutating func submit(
        _ name: String, priority: Int = 0, weight: Int = 1, cells submitted: [CrossSweepCell], now: Double
    ) throws(CrossSweepError) -> [String] {
        guard sweeps[name] == nil else { throw .duplicateSweep(name) }
        guard weight >= 1 else { throw .invalidWeight(weight) }
        sweeps[name] = Sweep(name: name, priority: priority, weight: weight, submittedAt: now)
        return try addCells(submitted, to: name, now: now)
    }

    /// More cells for a sweep (an adaptive sweep's later seeds), after those it has; returns the borrowed ids.
    @discardableResult
    public mutating func addCells(_ submitted: [CrossSweepCell], to name: String, now: Double)
        throws(CrossSweepError) -> [String]
    {
        guard var sweep = sweeps[name] else { throw .unknownSweep(name) }
        var borrowed: [String] = []
        for cell in submitted {
            if let entry = cells[cell.id] {
                if entry.owner != name, !sweep.borrowed.contains(cell.id) {
                    sweep.borrowed.append(cell.id)
                    borrowed.append(cell.id)
                }
                continue
            }
            let state: CrossSweepCell.State = cell.state == .running ? .pending : cell.state
            cells[cell.id] = Entry(owner: name, dependsOn: cell.dependsOn, state: state, slot: nil)
            sweep.order.append(cell.id)
        }
        sweeps[name] = sweep
        refreshWaiting(now: now)
        return borrowed
    }

    /// Removes a sweep (cancelled or finished). Its cells that another live sweep borrows or depends on pass to
    /// that sweep (see the type's docs); the others are dropped. Returns the dropped cells that were running, by
    /// slot, for the coordinator to cancel; their slots are free here.
    @discardableResult
    public mutating func remove(_ name: String, now: Double) throws(CrossSweepError) -> [String: String] {
        guard let removed = sweeps.removeValue(forKey: name) else { throw .unknownSweep(name) }
        let heirs = sweeps.values.sorted { ($0.submittedAt, $0.name) < ($1.submittedAt, $1.name) }
        let owned = Set(removed.order)
        var heirOf: [String: String] = [:]
        for id in removed.order {
            let heir = heirs.first { sweep in
                sweep.borrowed.contains(id) || sweep.order.contains { cells[$0]?.dependsOn == id }
            }
            if let heir { heirOf[id] = heir.name }
        }
        // An inherited cell takes the removed sweep's cells it depends on (its stage-1 job) to the same heir.
        var changed = true
        while changed {
            changed = false
            for id in removed.order {
                guard let heir = heirOf[id], let dependency = cells[id]?.dependsOn, owned.contains(dependency),
                    heirOf[dependency] == nil
                else { continue }
                heirOf[dependency] = heir
                changed = true
            }
        }
        var cancelled: [String: String] = [:]
        var inherited: [String: [String]] = [:]
        for id in removed.order {
            guard let entry = cells[id] else { continue }
            if let heir = heirOf[id] {
                cells[id]?.owner = heir
                inherited[heir, default: []].append(id)
                if entry.state == .running { sweeps[heir]?.running.insert(id) }
            } else {
                if let slot = entry.slot {
                    cancelled[slot] = id
                    slots[slot] = nil
                }
                cells[id] = nil
            }
        }
        for (heir, ids) in inherited {
            sweeps[heir]?.order.insert(contentsOf: ids, at: 0)
            sweeps[heir]?.borrowed.removeAll { ids.contains($0) }
        }
        refreshWaiting(now: now)
        return cancelled
    }

    /// Sets a sweep's priority (higher first).
    public mutating func setPriority(_ priority: Int, of name: String) throws(CrossSweepError) {
        guard sweeps[name] != nil else { throw .unknownSweep(name) }
        sweeps[name]?.priority = priority
    }

    /// Sets a sweep's weight (at least 1) within its priority.
    public mutating func setWeight(_ weight: Int, of name: String) throws(CrossSweepError) {
        guard sweeps[name] != nil else { throw .unknownSweep(name) }
        guard weight >= 1 else { throw .invalidWeight(weight) }
        sweeps[name]?.weight = weight
    }

    /// Pauses a sweep: it gets no new cell (and does not age); its running cells go on.
    public mutating func pause(_ name: String, now: Double) throws(CrossSweepError) {
        guard sweeps[name] != nil else { throw .unknownSweep(name) }
        sweeps[name]?.paused = true
        refreshWaiting(now: now)
    }

    /// Resumes a paused sweep: it competes for free slots again (ageing counts from `now`).
    public mutating func resume(_ name: String, now: Double) throws(CrossSweepError) {
        guard sweeps[name] != nil else { throw .unknownSweep(name) }
        sweeps[name]?.paused = false
        refreshWaiting(now: now)
    }

    // MARK: - Cells

    /// A ready cell started on `slot` at `now` (usually the cell `pick` named). The sweep counts as served now.
    public mutating func start(_ cell: String, slot: String, now: Double) throws(CrossSweepError) {
        guard let entry = cells[cell], let owner = sweeps[entry.owner] else { throw .unknownCell(cell) }
        guard !owner.paused, isReady(cell) else { throw .notReady(cell) }
        if let busy = slots[slot] { throw .slotBusy(slot: slot, cell: busy) }
        cells[cell]?.state = .running
        cells[cell]?.slot = slot
        slots[slot] = cell
        serveSerial += 1
        sweeps[entry.owner]?.running.insert(cell)
        sweeps[entry.owner]?.lastServed = serveSerial
        sweeps[entry.owner]?.waitingSince = nil
        refreshWaiting(now: now)
    }

    /// A running cell ended for good: done (its dependents become ready) or failed (its dependents, in any sweep,
    /// fail too: returned, in a deterministic order). Its slot is free. A cell not running is refused.
    @discardableResult
    public mutating func finish(_ cell: String, succeeded: Bool = true, now: Double) throws(CrossSweepError)
        -> [String]
    {
        guard let entry = cells[cell] else { throw .unknownCell(cell) }
        guard entry.state == .running else { throw .notReady(cell) }
        vacate(cell)
        cells[cell]?.state = succeeded ? .done : .failed
        let failed = succeeded ? [] : failDependents(of: cell)
        refreshWaiting(now: now)
        return failed
    }

    /// A running cell is pending again (its worker was lost, its attempt will be retried): its slot is free and
    /// the cell is ready to be picked again, at its place in its sweep's order.
    public mutating func release(_ cell: String, now: Double) throws(CrossSweepError) {
        guard let entry = cells[cell] else { throw .unknownCell(cell) }
        guard entry.state == .running else { throw .notReady(cell) }
        vacate(cell)
        cells[cell]?.state = .pending
        refreshWaiting(now: now)
    }

    /// Releases the cell a slot runs (a lost worker's slots); returns it, nil when the slot was free.
    @discardableResult
    public mutating func releaseSlot(_ slot: String, now: Double) -> String? {
        guard let cell = slots[slot] else { return nil }
        try? release(cell, now: now)
        return cell
    }

    /// Frees a running cell's slot and its owner's running count.
    private mutating func vacate(_ cell: String) {
        guard let entry = cells[cell] else { return }
        if let slot = entry.slot { slots[slot] = nil }
        cells[cell]?.slot = nil
        sweeps[entry.owner]?.running.remove(cell)
    }

    /// Marks the pending cells that depend, directly or not, on `cell` as failed; returns them sorted.
    private mutating func failDependents(of cell: String) -> [String] {
        var failed: [String] = []
        var frontier = [cell]
        while let parent = frontier.popLast() {
            for (id, entry) in cells where entry.dependsOn == parent && entry.state == .pending {
                cells[id]?.state = .failed
                failed.append(id)
                frontier.append(id)
            }
        }
        return failed.sorted()
    }

    /// Starts or stops each sweep's waiting clock: it runs while the sweep is eligible with no cell running, from
    /// the first `now` it is so.
    private mutating func refreshWaiting(now: Double) {
        for (name, sweep) in sweeps {
            let eligible = sweep.running.isEmpty && isEligible(sweep)
            if eligible, sweep.waitingSince == nil {
                sweeps[name]?.waitingSince = now
            } else if !eligible, sweep.waitingSince != nil {
                sweeps[name]?.waitingSince = nil
            }
        }
    }
}
