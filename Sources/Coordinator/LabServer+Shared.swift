// LabServer+Shared: a cell two sweeps plan alike (the same id) runs once, in the first sweep; the others adopt it.
import Foundation
import TransferKit

extension LabServer {
    /// Cells are content-addressed (config, data, stage 1, command, inputs), so two sweeps can plan the same cell.
    /// The sweep served first (submission time, then name) runs it; in the others it is held back while that run
    /// is pending or running, and adopted when it is done (`Scheduler.adoptDone`: its files linked into their
    /// store, its metrics copied, one attempt `shared:<sweep>`). When the first sweep's copy fails, or waits in a
    /// cancelled variant, the others run their own.
    func shareCells(now time: Double) throws {
        let key = members.values.reduce(members.count) { $0 + $1.server.scheduler.cells.count }
        if key != sharedKey {
            sharedKey = key
            var holders: [String: [Member]] = [:]
            let ordered = sorted().sorted { ($0.submittedAt, $0.name) < ($1.submittedAt, $1.name) }
            for member in ordered {
                for id in member.server.scheduler.cells.keys { holders[id, default: []].append(member) }
            }
            shared = holders.filter { $0.value.count > 1 }
        }
        for id in shared.keys.sorted() {
            guard let holders = shared[id], let owner = holders.first,
                let own = owner.server.scheduler.cells[id]
            else { continue }
            let ownerWaits = own.state == .pending && owner.server.scheduler.cancelledVariants.contains(own.variant)
            for borrower in holders.dropFirst() {
                guard let cell = borrower.server.scheduler.cells[id] else { continue }
                if cell.state != .pending || own.state == .failed || ownerWaits {
                    borrower.server.scheduler.heldBack.remove(id)
                    continue
                }
                guard own.state == .done else {
                    borrower.server.scheduler.heldBack.insert(id)
                    continue
                }
                do {
                    let result = try sharedResult(own, of: owner, into: borrower)
                    try borrower.server.execute(
                        borrower.server.scheduler.adoptDone(id, result: result, now: time), socket: borrower.outbox)
                } catch {
                    // Its files could not be linked (a full disk): held back, tried again next round.
                    borrower.server.scheduler.heldBack.insert(id)
                    borrower.server.note(
                        "cannot adopt cell \(id.prefix(12)) from sweep \(owner.name): \(error); tried again",
                        kind: "adopt_failed")
                }
            }
        }
    }

    /// The owner's run of `cell`, its files linked into the borrower's artifact store.
    private func sharedResult(_ cell: CellRecord, of owner: Member, into borrower: Member) throws -> SharedResult {
        let source = owner.server.setup
        let target = borrower.server.setup
        var files: [(name: String, epoch: Int, artifact: ArtifactRecord)] = []
        for file in try source.ledger.resultFiles(cell: cell.id, upTo: cell.attempt) {
            if let held = try target.ledger.artifact(file.sha256) {
                files.append((file.name, file.epoch, held))
                continue
            }
            guard let artifact = try source.ledger.artifact(file.sha256) else {
                throw LabError("\(file.name) of the run is not in sweep \(owner.name)'s store")
            }
            let temporary = "\(target.store.stateDirectory)/incoming/adopt-\(file.sha256).tmp"
            unlink(temporary)
            let from = source.store.absolute(artifact.path)
            if link(from, temporary) != 0 {
                try FileManager.default.copyItem(atPath: from, toPath: temporary)
            }
            let path = try target.store.adopt(temporary, sha256: file.sha256)
            files.append(
                (
                    file.name, file.epoch,
                    ArtifactRecord(sha256: file.sha256, size: artifact.size, path: path, addedAt: now)
                ))
        }
        let metrics = try owner.server.mergedMetrics(cell).map {
            (epoch: $0.epoch, valMacroF1: $0.valMacroF1, record: $0.record)
        }
        let worker = try source.ledger.attempts(cell: cell.id).last { $0.outcome == "done" }?.worker ?? "unknown"
        return SharedResult(
            sweep: owner.name, worker: worker, summaryJSON: cell.summaryJSON, epochsDone: cell.epochsDone,
            bestValMacroF1: cell.bestValMacroF1, files: files, metrics: metrics)
    }
}
