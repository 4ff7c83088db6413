// CoordinatorServer+Transfers: files in and out — artifacts served to FETCH, offers received, damaged copies.
import AblateSupport
import Foundation
import TransferKit
import WireProtocol

extension CoordinatorServer {
    func serve(_ fetch: Fetch, peer: PeerID, socket: any Outbox) throws {
        guard !damaged.contains(fetch.sha256), let artifact = try setup.ledger.artifact(fetch.sha256) else {
            let reason = damaged.contains(fetch.sha256) ? "damaged on the coordinator" : "unknown artifact"
            return try execute(
                [.send(peer, .fetchError(FetchError(sha256: fetch.sha256, reason: reason)))], socket: socket)
        }
        if !verified.contains(artifact.sha256) {
            let path = setup.store.absolute(artifact.path)
            if let problem = setup.store.verify(path, sha256: artifact.sha256) {
                try execute(damage(artifact, problem: problem), socket: socket)
                return try execute(
                    [.send(peer, .fetchError(FetchError(sha256: fetch.sha256, reason: "damaged on the coordinator")))],
                    socket: socket)
            }
            verified.insert(artifact.sha256)
        }
        try answer(fetch, size: artifact.size, peer: peer, socket: socket) { offset, length in
            try setup.store.read(setup.store.absolute(artifact.path), offset: offset, length: length)
        }
    }

    /// DATA with the piece of a `size`-byte file that `fetch` asks for (at most a chunk), read by `read`; FETCH_ERROR
    /// for an offset past the end or a read that fails. Serves artifacts and held report files alike.
    func answer(
        _ fetch: Fetch, size: Int64, peer: PeerID, socket: any Outbox,
        read: (_ offset: Int64, _ length: Int) throws -> [UInt8]
    ) throws {
        guard fetch.offset >= 0, fetch.offset <= size else {
            return try execute(
                [
                    .send(
                        peer,
                        .fetchError(
                            FetchError(sha256: fetch.sha256, reason: "offset \(fetch.offset) beyond the size \(size)")))
                ], socket: socket)
        }
        do {
            let payload = try read(fetch.offset, min(fetch.length, limits.maxChunkBytes))
            try execute(
                [
                    .send(
                        peer,
                        .data(FileChunk(sha256: fetch.sha256, offset: fetch.offset, totalSize: size, payload: payload)))
                ], socket: socket)
        } catch {
            try execute(
                [.send(peer, .fetchError(FetchError(sha256: fetch.sha256, reason: "\(error)")))], socket: socket)
        }
    }

    func transfer(_ outcome: TransferReceiver.Outcome, peer: PeerID, socket: any Outbox) throws {
        switch outcome {
        case .none:
            return
        case .send(let message):
            try execute([.send(peer, message)], socket: socket)
        case .stored(let path, let claims):
            guard let file = claims.first?.offer.file else { return }
            verified.insert(file.sha256)
            damaged.remove(file.sha256)
            // Every offer of these bytes is answered at the peer it came from, judged for its own cell and attempt.
            var actions: [SchedulerAction] = [
                .addArtifact(ArtifactRecord(sha256: file.sha256, size: file.size, path: path, addedAt: now))
            ]
            for claim in claims {
                let offer = claim.offer
                actions += scheduler.fileStored(
                    cell: offer.cell, attempt: offer.attempt, epoch: offer.epoch, file: offer.file, peer: claim.peer)
            }
            try execute(actions, socket: socket)
        case .mismatch(let claim):
            let offer = claim.offer
            note(
                "\(offer.file.name) of cell \(offer.cell.prefix(12)) failed its SHA-256 check; asked again",
                kind: "hash_mismatch")
            try execute(
                [.send(claim.peer, .stored(Stored(sha256: offer.file.sha256, status: .hashMismatch)))], socket: socket)
        }
    }

    /// The coordinator's copy of `artifact` failed its check: it is logged with its path, moved to `STATE/damaged/`
    /// (files of the store only; a registered file of the user's stays where it is), and the cells resuming from it fall
    /// back to their newest earlier checkpoint that passes the check, or start afresh.
    func damage(_ artifact: ArtifactRecord, problem: String) throws -> [SchedulerAction] {
        let path = setup.store.absolute(artifact.path)
        damaged.insert(artifact.sha256)
        var note = "\(path): damaged (\(problem)); it will not be served"
        if artifact.path.hasPrefix("artifacts/"), let moved = setup.store.quarantine(path) {
            note += "; moved to \(moved)"
        }
        logger.error("\(note)")
        var fallbacks: [String: Scheduler.ResumePoint] = [:]
        for cell in scheduler.cellsResuming(from: artifact.sha256) {
            for candidate in try setup.ledger.cellFiles(cell: cell.id, named: scheduler.resumeFileName(of: cell.id))
            where !damaged.contains(candidate.sha256) {
                guard let record = try setup.ledger.artifact(candidate.sha256) else { continue }
                let candidatePath = setup.store.absolute(record.path)
                if verified.contains(record.sha256) || setup.store.verify(candidatePath, sha256: record.sha256) == nil {
                    verified.insert(record.sha256)
                    fallbacks[cell.id] = Scheduler.ResumePoint(
                        sha256: record.sha256, epoch: candidate.epoch, size: record.size)
                    break
                }
                damaged.insert(record.sha256)
                logger.error("\(candidatePath): damaged too; not used")
            }
        }
        return scheduler.artifactDamaged(artifact.sha256, fallbacks: fallbacks, path: path, now: now)
    }
}
