// Scheduler+Assign: handing ready cells to free worker slots — on its own, or by a lab's grants.
import RunSpec
import WireProtocol

extension Scheduler {
    /// Hands pending cells whose dependency is done to sessions with free slots, in plan order. In a lab
    /// (`ownsWorkers` false) only the lab's grants start cells.
    mutating func assign(now: Double) -> [SchedulerAction] {
        guard ownsWorkers else { return [] }
        return assign(now: now, capacity: nil)
    }

    /// A lab's grant: starts at most `granted[peer]` more cells on each worker, in plan order (cells failed by their
    /// stage-1 job are marked failed on the way, as `assign(now:)` does).
    public mutating func assign(granted: [PeerID: Int], now: Double) -> [SchedulerAction] {
        assign(now: now, capacity: granted)
    }

    /// Pending cells that could start now: variant not cancelled, not held back, stage-1 job (if any) done (or
    /// failed, which fails them when assigned).
    public var readyCount: Int {
        order.reduce(0) { count, id in
            guard let cell = cells[id], cell.state == .pending, !cancelledVariants.contains(cell.variant),
                !heldBack.contains(id)
            else { return count }
            guard let dependency = cell.dependsOn else { return count + 1 }
            let parentEnded = cells[dependency].map { $0.state == .done || $0.state == .failed } ?? false
            return parentEnded ? count + 1 : count
        }
    }

    /// Cells the session of `peer` runs for this sweep now (0 without a session).
    public func heldCount(of peer: PeerID) -> Int {
        sessionOfPeer[peer].flatMap { sessions[$0]?.held.count } ?? 0
    }

    /// Traffic from `peer` reached the lab (perhaps for another sweep): its session here is alive too.
    public mutating func heard(from peer: PeerID, now: Double) {
        guard let id = sessionOfPeer[peer] else { return }
        sessions[id]?.lastHeard = now
    }

    /// Whether the session of `peer` runs `cell` (a worker's message about it belongs to this sweep).
    public func holds(_ cell: String, peer: PeerID) -> Bool {
        sessionOfPeer[peer].flatMap { sessions[$0]?.held[cell] } != nil
    }

    /// Cells running for this sweep on any worker.
    public var runningCount: Int { sessions.values.reduce(0) { $0 + $1.held.count } }

    private mutating func assign(now: Double, capacity: [PeerID: Int]?) -> [SchedulerAction] {
        var grants = capacity ?? [:]
        var actions: [SchedulerAction] = []
        for id in order {
            guard var cell = cells[id], cell.state == .pending, !cancelledVariants.contains(cell.variant),
                !heldBack.contains(id)
            else { continue }
            var stage1 = stage1Checkpoint
            if let dependency = cell.dependsOn {
                guard let parent = cells[dependency] else { continue }
                if parent.state == .failed {
                    cell.state = .failed
                    cell.reason = "its stage-1 job failed: \(parent.reason ?? "unknown reason")"
                    cell.updatedAt = now
                    cells[id] = cell
                    actions.append(.saveCell(cell, starting: nil, ending: nil))
                    continue
                }
                guard parent.state == .done, let best = files[dependency]?["best.h5"],
                    let size = artifactSizes[best.sha256]
                else { continue }
                stage1 = ArtifactRef(name: "stage1.h5", sha256: best.sha256, size: size)
            }
            let free = sessions.values.filter {
                capacity == nil ? $0.held.count < $0.slots : (grants[$0.peer] ?? 0) > 0
            }
            .sorted { ($0.slots - $0.held.count, $1.id) > ($1.slots - $1.held.count, $0.id) }
            guard let target = free.first else { break }
            if capacity != nil { grants[target.peer, default: 0] -= 1 }
            var resume: ArtifactRef?
            if let sha = cell.resumeSHA256, let size = artifactSizes[sha] {
                resume = ArtifactRef(name: resumeFileName(of: id), sha256: sha, size: size)
            }
            cell.attempt += 1
            cell.state = .running
            cell.worker = target.worker
            cell.epochsDone = resume == nil ? 0 : cell.resumeEpoch
            cell.updatedAt = now
            cells[id] = cell
            sessions[target.id]?.held[id] = cell.attempt
            let attempt = AttemptRecord(
                cell: id, attempt: cell.attempt, worker: target.worker, session: target.id, startedAt: now)
            actions.append(.saveCell(cell, starting: attempt, ending: nil))
            actions.append(
                .log(
                    "cell \(cell.variant)/seed-\(cell.seed) attempt \(cell.attempt) → \(target.worker)\(resume == nil ? "" : " (resuming after epoch \(cell.resumeEpoch))")"
                ))
            actions.append(
                .send(
                    target.peer,
                    .assign(
                        Assign(
                            cell: id, attempt: cell.attempt, variant: cell.variant, seed: cell.seed,
                            config: cell.configJSON,
                            dataset: dataset, stage1: cell.stage == Stage.stage1.rawValue ? nil : stage1,
                            resume: resume,
                            command: commands[id]?.argv, timeoutSeconds: commands[id]?.timeoutSeconds,
                            params: commands[id]?.paramsJSON, env: commands[id]?.assignEnv,
                            workdir: commands[id]?.execution.workdir, resumeFile: commands[id]?.execution.resumeFile,
                            checkpoints: commands[id]?.execution.checkpoints, inputs: commands[id]?.inputs,
                            metric: commands[id]?.metric))))
        }
        return actions
    }
}
