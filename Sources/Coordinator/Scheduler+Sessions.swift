// Scheduler+Sessions: worker sessions — welcoming a HELLO, dropping a session, requeueing its cells.
import RunSpec
import WireProtocol

extension Scheduler {

    mutating func welcome(_ hello: Hello, peer: PeerID, now: Double) -> [SchedulerAction] {
        // Sessions open when the sweep finished are told first; this one is welcomed as finished instead.
        var actions: [SchedulerAction] = announceFinish(now: now)
        sessionCounter += 1
        let id = "\(incarnation)-\(sessionCounter)"
        if let old = sessionOfPeer[peer] { sessionOfPeer[peer] = nil; sessions[old]?.peer = [] }
        var session = Session(
            id: id, peer: peer, worker: hello.worker, incarnation: hello.incarnation, slots: hello.slots, lastHeard: now
        )
        workerLabels[hello.worker] = hello.label
        session.host = hello.host
        session.gpus = hello.gpus
        actions.append(
            .saveWorker(
                WorkerRecord(
                    name: hello.worker, incarnation: hello.incarnation, host: hello.host, threads: hello.threads,
                    gpu: hello.gpu, slots: hello.slots,
                    codeVersion: hello.codeVersion, blasCore: hello.blasCore, firstSeen: now, lastSeen: now,
                    gpus: hello.gpus)))
        actions.append(
            .send(
                peer,
                .welcome(
                    Welcome(
                        session: id, coordinatorIncarnation: incarnation, heartbeatMs: settings.heartbeatMs,
                        liveness: settings.liveness,
                        chunkBytes: settings.chunkBytes, window: settings.window, sweepFinished: isFinished ? true : nil
                    ))))
        // Earlier sessions of the same worker name: their cells are taken over when resumed, else requeued.
        let previous = sessions.values.filter { $0.worker == hello.worker }.map(\.id).sorted()
        for job in hello.resuming {
            guard var cell = cells[job.cell], cell.state == .running, cell.attempt == job.attempt,
                cell.worker == hello.worker || orphanDeadline[job.cell] != nil
            else {
                actions.append(.count("fenced_resume"))
                actions.append(
                    .send(peer, .cancel(Cancel(cell: job.cell, attempt: job.attempt, reason: cancelReason(job)))))
                continue
            }
            for old in previous { sessions[old]?.held[job.cell] = nil }
            for other in sessions.keys where sessions[other]?.held[job.cell] != nil {
                sessions[other]?.held[job.cell] = nil
            }
            orphanDeadline[job.cell] = nil
            session.held[job.cell] = job.attempt
            if cell.worker != hello.worker {
                cell.worker = hello.worker
                cells[job.cell] = cell
                actions.append(.saveCell(cell, starting: nil, ending: nil))
            }
            actions.append(
                .log(
                    "worker \(hello.worker) resumes cell \(job.cell.prefix(12)) attempt \(job.attempt) at epoch \(job.epoch)"
                ))
        }
        // After a restart, cells the ledger gives to this worker that its HELLO does not list are not held by it any
        // more (it stopped, restarted or finished them meanwhile): they are requeued now rather than at the grace's end.
        for (cellID, _) in orphanDeadline.sorted(by: { $0.key < $1.key })
        where cells[cellID]?.worker == hello.worker && session.held[cellID] == nil {
            orphanDeadline[cellID] = nil
            actions += requeue(
                cellID, now: now, outcome: "lost",
                reason: "worker \(hello.worker) came back without it after a coordinator restart")
        }
        sessions[id] = session
        sessionOfPeer[peer] = id
        for old in previous {
            actions += dropSession(old, now: now, reason: "worker \(hello.worker) reconnected without it")
        }
        return actions + assign(now: now)
    }

    func cancelReason(_ job: JobProgress) -> String {
        guard let cell = cells[job.cell] else { return "unknown cell" }
        if cell.state == .done { return "cell already done" }
        if cell.attempt != job.attempt { return "attempt \(job.attempt) was superseded by attempt \(cell.attempt)" }
        return "cell is \(cell.state.rawValue)"
    }

    /// Ends a session; the cells it still held go back to pending.
    mutating func dropSession(_ id: String, now: Double, reason: String) -> [SchedulerAction] {
        guard let session = sessions.removeValue(forKey: id) else { return [] }
        if sessionOfPeer[session.peer] == id { sessionOfPeer[session.peer] = nil }
        var actions: [SchedulerAction] = []
        for cell in session.held.keys.sorted() {
            actions += requeue(cell, now: now, outcome: "lost", reason: reason)
        }
        return actions
    }

    /// Puts a running cell back to pending (its next attempt resumes from the last verified checkpoint).
    mutating func requeue(_ id: String, now: Double, outcome: String, reason: String) -> [SchedulerAction] {
        guard var cell = cells[id], cell.state == .running else { return [] }
        let ended = AttemptEnd(attempt: cell.attempt, outcome: outcome, reason: reason, at: now)
        cell.state = .pending
        cell.worker = nil
        cell.epochsDone = cell.resumeEpoch
        cell.updatedAt = now
        cells[id] = cell
        return [
            .log("cell \(cell.variant)/seed-\(cell.seed) attempt \(cell.attempt) requeued: \(reason)", level: .warning),
            .saveCell(cell, starting: nil, ending: ended),
        ]
    }
}
