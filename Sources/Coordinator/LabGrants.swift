// LabGrants: which sweep of a lab gets each free worker slot — the cross-sweep policy as a pure decision.
import WireProtocol

/// The lab's slot decision, without I/O or clock: given each worker's free slots and each sweep's standing and ready
/// cells, the grants in order. Each slot goes, one at a time, to the sweep that `SweepStanding.goesFirst` puts
/// first among those with a ready cell left, on the worker with the most free slots (then the lowest routing id);
/// the grant counts as a running cell of that sweep and as its latest start (`serial`), so the next slot sees it.
/// `LabServer` starts each grant with that sweep's `Scheduler.assign(granted:now:)`.
public enum LabGrants {
    /// A sweep as the decision sees it.
    public struct Sweep: Sendable, Equatable {
        public var standing: SweepStanding
        /// Cells that could start now (pending, not cancelled or held back, stage-1 job done).
        public var ready: Int

        public init(standing: SweepStanding, ready: Int) {
            self.standing = standing
            self.ready = ready
        }
    }

    /// One slot granted: the sweep, the worker, and the serial that becomes the sweep's "last served".
    public struct Grant: Sendable, Equatable {
        public var sweep: String
        public var worker: PeerID
        public var serial: Int

        public init(sweep: String, worker: PeerID, serial: Int) {
            self.sweep = sweep
            self.worker = worker
            self.serial = serial
        }
    }

    /// The grants for `free` slots (per worker) among `sweeps`; `serial` is the latest serial handed out so far.
    public static func plan(free: [PeerID: Int], sweeps: [Sweep], serial: Int) -> [Grant] {
        var free = free.filter { $0.value > 0 }
        var sweeps = sweeps
        var serial = serial
        var grants: [Grant] = []
        while !free.isEmpty {
            var best: Int?
            for index in sweeps.indices where sweeps[index].ready > 0 {
                if let current = best, !sweeps[index].standing.goesFirst(before: sweeps[current].standing) { continue }
                best = index
            }
            guard let chosen = best,
                let worker = free.min(by: { a, b in
                    a.value != b.value ? a.value > b.value : a.key.lexicographicallyPrecedes(b.key)
                })?.key
            else { break }
            serial += 1
            grants.append(Grant(sweep: sweeps[chosen].standing.name, worker: worker, serial: serial))
            sweeps[chosen].ready -= 1
            sweeps[chosen].standing.running += 1
            sweeps[chosen].standing.lastServed = serial
            free[worker, default: 0] -= 1
            if free[worker] ?? 0 <= 0 { free[worker] = nil }
        }
        return grants
    }
}
