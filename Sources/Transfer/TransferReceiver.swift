import AblateSupport
// TransferReceiver: incoming checkpoint files — credit-based chunks appended in order, hashed, verified, renamed.
import Foundation
import WireProtocol

/// Receives files offered by workers into `STATE/incoming/<sha256>.part`, keyed by their SHA-256 so a transfer
/// broken by a reconnect (or a coordinator restart) resumes from the bytes already held. A file is moved into the
/// artifact store only after its bytes hash to the offered value.
///
/// Credit is granted only while the state directory has room (`StorageGate`, fed by `freeBytes`): a transfer that
/// does not fit is held without credit and re-checked every second (`resumeHeld`). A chunk that cannot be written
/// (a full disk) is dropped, with the part file, and the transfer held; since the worker has sent past it, the
/// transfer is restarted once room returns: the worker is sent DISCONNECT, says HELLO again and offers it afresh.
/// Part files that can no longer be resumed are removed: the transfer's attempt ended (`abandon`), a newer version of
/// the same file of the same cell was offered, or (found at start) no offer claimed them (`removeUnclaimed`).
///
/// Two cells can produce the very same bytes (a variant that trains exactly like another, on two workers at once).
/// One transfer per SHA-256 streams them, from the cell that offered first (the *sender*); the offers of other cells
/// wait without credit, and the stored outcome names every claim, each with the peer it came from, so that each is
/// judged for its own cell, attempt and session. When the sender's attempt ends first (`abandon`, or a newer version
/// of its file), the next waiting offer becomes the sender and gets CREDIT from the bytes held (`takePromotions`).
public final class TransferReceiver {
    /// An offer and the peer it came from.
    public struct Claim: Equatable, Sendable {
        public var offer: Offer
        public var peer: PeerID

        public init(offer: Offer, peer: PeerID) {
            self.offer = offer
            self.peer = peer
        }
    }

    /// What to do after an offer or a chunk.
    public enum Outcome: Equatable {
        case none
        case send(Message)
        /// The file is complete and verified at `path` (now in the artifact store). `claims` are every current offer of
        /// it, the sender's first: each is answered STORED at its own peer.
        case stored(path: String, claims: [Claim])
        /// The sender's bytes did not match the offered hash; they were discarded (a waiting offer, if any, becomes
        /// the sender).
        case mismatch(Claim)
    }

    private struct Incoming {
        /// The sender's offer: the latest offer of the cell whose worker streams the bytes.
        var offer: Offer
        /// The peer of the sender's latest offer (held credit goes there when room returns).
        var peer: PeerID
        /// Offers of the same bytes by other cells (one per cell), answered when the file is stored.
        var waiting: [Claim] = []
        /// Closed (nil) after a write failed; reopened from the bytes on disk when room returns.
        var file: PartFile?
        /// Chunks appended since the last CREDIT.
        var uncredited = 0
        /// Waiting for room: no credit is granted.
        var held = false
        /// Chunks were dropped (a failed write, or a gap while held): the worker must restart from the bytes held.
        var lost = false
    }

    private let incomingDirectory: String
    private let store: ArtifactStore
    private let window: Int
    private var incoming: [String: Incoming] = [:]
    /// Reads the state directory's free bytes (nil: unknown, never a reason to hold a transfer).
    private let freeBytes: (() -> Int64?)?
    public private(set) var gate: StorageGate
    /// SHA-256 of part files found at start that no offer has claimed yet.
    public private(set) var unclaimed: Set<String> = []
    /// Writes that failed since the last `takeFailures` (for the log).
    private var failures: [String] = []
    /// Waiting offers that became the sender since the last `takePromotions`, with what their peer is sent.
    private var promotions: [(peer: PeerID, outcome: Outcome)] = []

    /// `freeBytes` reads the free space of the state directory's filesystem (nil: no check, credit is always granted);
    /// `reserveBytes` is what must stay free.
    public init(
        stateDirectory: String, store: ArtifactStore, window: Int, reserveBytes: Int64 = 0,
        freeBytes: (() -> Int64?)? = nil
    ) throws {
        incomingDirectory = "\(stateDirectory)/incoming"
        self.store = store
        self.window = window
        self.freeBytes = freeBytes
        gate = StorageGate(reserveBytes: reserveBytes)
        try FileManager.default.createDirectory(atPath: incomingDirectory, withIntermediateDirectories: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: incomingDirectory)) ?? []
        unclaimed = Set(names.filter { $0.hasSuffix(".part") }.map { String($0.dropLast(".part".count)) })
    }

    /// Transfers in progress.
    public var activeCount: Int { incoming.count }

    /// Whether a transfer of the file with this SHA-256 is in progress here (its CHUNKs belong to this receiver).
    public func isReceiving(_ sha256: String) -> Bool { incoming[sha256] != nil }

    /// The writes that failed since the last call, one line each (what was written and the error).
    public func takeFailures() -> [String] {
        defer { failures.removeAll() }
        return failures
    }

    /// What to send to the peers of waiting offers that became senders since the last call (CREDIT from the bytes
    /// held, or the stored outcome when the file is already complete).
    public func takePromotions() -> [(peer: PeerID, outcome: Outcome)] {
        defer { promotions.removeAll() }
        return promotions
    }

    /// Transfers held for want of room.
    public var heldCount: Int { incoming.values.filter(\.held).count }

    /// A current OFFER of a file the store lacks: answer with CREDIT from the bytes already held, or hold it while
    /// the state directory lacks room. An offer of a newer version of a file of the same cell ends the older one's
    /// claim (the worker sends only the latest version). While another cell's offer of the same bytes is being
    /// streamed, this one waits without credit (`.none`) and is answered when the file is stored.
    public func accept(_ offer: Offer, peer: PeerID = [], now: Double = 0) throws -> Outcome {
        let sha = offer.file.sha256
        unclaimed.remove(sha)
        func older(_ other: Offer) -> Bool {
            other.cell == offer.cell && other.file.name == offer.file.name && other.attempt <= offer.attempt
        }
        for other in incoming.keys.sorted() where other != sha {
            incoming[other]?.waiting.removeAll { older($0.offer) }
            if let transfer = incoming[other], older(transfer.offer) { replaceSender(other, now: now) }
        }
        if var existing = incoming[sha] {
            existing.waiting.removeAll { $0.offer.cell == offer.cell }
            guard existing.offer.cell == offer.cell else {
                // Another cell's identical file is on its way: no second stream of the same bytes.
                existing.waiting.append(Claim(offer: offer, peer: peer))
                incoming[sha] = existing
                return .none
            }
            existing.offer = offer
            existing.peer = peer
            existing.uncredited = 0
            // A new offer restarts the worker's side from the CREDIT's offset: nothing is missing any more.
            existing.lost = false
            incoming[sha] = existing
        } else {
            incoming[sha] = Incoming(offer: offer, peer: peer, file: nil)
        }
        return grant(sha, now: now)
    }

    /// Chunks appended between two CREDITs: half the window (at least one), so the worker always has half a
    /// window in flight while a CREDIT travels, and there is one CREDIT per two chunks rather than per chunk.
    public var creditEvery: Int { max(1, window / 2) }

    /// One CHUNK: appended when it continues the bytes held; duplicates are ignored and a gap gets a fresh credit.
    /// Every `creditEvery` appended chunks are answered with one CREDIT for a whole window from the bytes held, if
    /// there is room for the rest of the file; otherwise the transfer is held. A chunk that cannot be written holds
    /// the transfer too, to be restarted when room returns.
    public func receive(_ chunk: FileChunk, now: Double = 0) throws -> Outcome {
        guard var transfer = incoming[chunk.sha256] else { return .none }
        guard !transfer.lost, let file = transfer.file else { return .none }
        let appended: Bool
        do {
            appended = try chunk.totalSize == transfer.offer.file.size && file.append(chunk.payload, at: chunk.offset)
        } catch {
            // What reached the disk before the failure is not known exactly (staged direct writes): the part file is
            // removed and the transfer starts again from its first byte, never from bytes of doubtful content.
            file.close()
            unlink(partPath(chunk.sha256))
            transfer.file = nil
            transfer.held = true
            transfer.lost = true
            incoming[chunk.sha256] = transfer
            gate.writeFailed("\(error)", bytes: transfer.offer.file.size, freeBytes: freeBytes?() ?? 0, now: now)
            failures.append("\(transfer.offer.file.name) \(chunk.sha256.prefix(12)): \(error)")
            return .none
        }
        guard appended else {
            if chunk.offset > file.held {
                if transfer.held {
                    // No credit while held; the worker has sent past the bytes held, so it restarts when room returns.
                    transfer.lost = true
                    incoming[chunk.sha256] = transfer
                    return .none
                }
                transfer.uncredited = 0
                incoming[chunk.sha256] = transfer
                return .send(.credit(Credit(sha256: chunk.sha256, offset: file.held, chunks: window)))
            }
            return .none
        }
        if file.isComplete { return complete(chunk.sha256, now: now) }
        transfer.uncredited += 1
        incoming[chunk.sha256] = transfer
        guard transfer.uncredited >= creditEvery, !transfer.held else { return .none }
        return grant(chunk.sha256, now: now)
    }

    /// Held transfers once room returns (checked at most every `gate.recheckSeconds`): CREDIT from the bytes held, or
    /// DISCONNECT to a worker whose chunks were dropped, so that it re-offers. Each with the peer it goes to.
    public func resumeHeld(now: Double) -> [(peer: PeerID, outcome: Outcome)] {
        guard gate.recheckDue(now: now) else { return [] }
        var out: [(peer: PeerID, outcome: Outcome)] = []
        var restarted: Set<PeerID> = []
        for sha in incoming.keys.sorted() {
            guard let transfer = incoming[sha], transfer.held else { continue }
            if transfer.lost {
                guard admits(sha, now: now) else { continue }
                incoming[sha]?.held = false
                // One DISCONNECT per worker: its new session re-offers every file it has not had stored.
                guard restarted.insert(transfer.peer).inserted else { continue }
                out.append(
                    (
                        transfer.peer,
                        .send(
                            .disconnect(
                                Disconnect(
                                    reason:
                                        "transfer of \(transfer.offer.file.name) \(sha.prefix(12)) interrupted by a full state directory; offer it again"
                                )))
                    ))
            } else {
                let outcome = grant(sha, now: now)
                if outcome != .none { out.append((transfer.peer, outcome)) }
            }
        }
        endPauseIfNothingHeld()
        return out
    }

    /// Forgets the offers that `isGone` says can no longer be answered (their attempt ended or was superseded). A
    /// transfer whose sender is gone passes to its first waiting offer (`takePromotions`), or without one is removed
    /// with its part file. Returns the offers whose transfer was removed.
    public func abandon(where isGone: (Offer) -> Bool, now: Double = 0) -> [Offer] {
        var removed: [Offer] = []
        for sha in incoming.keys.sorted() {
            incoming[sha]?.waiting.removeAll { isGone($0.offer) }
            guard let transfer = incoming[sha], isGone(transfer.offer) else { continue }
            if transfer.waiting.isEmpty { removed.append(transfer.offer) }
            replaceSender(sha, now: now)
        }
        endPauseIfNothingHeld()
        return removed
    }

    /// Removes the part files found at start that no offer claimed (their transfers can no longer resume).
    /// Returns how many.
    public func removeUnclaimed() -> Int {
        let names = unclaimed
        unclaimed = []
        for sha in names where incoming[sha] == nil { unlink(partPath(sha)) }
        return names.count
    }

    // MARK: - Private

    private func partPath(_ sha: String) -> String { "\(incomingDirectory)/\(sha).part" }

    /// The sender of `sha` is gone: its first waiting offer takes over from the bytes held (CREDIT to its peer, queued
    /// for `takePromotions`), or the transfer is removed when none waits.
    private func replaceSender(_ sha: String, now: Double) {
        guard var transfer = incoming[sha] else { return }
        guard !transfer.waiting.isEmpty else { return discard(sha) }
        let next = transfer.waiting.removeFirst()
        transfer.offer = next.offer
        transfer.peer = next.peer
        transfer.uncredited = 0
        // The new sender has sent nothing yet: it starts from the bytes held, so nothing is missing.
        transfer.lost = false
        incoming[sha] = transfer
        let outcome = grant(sha, now: now)
        if outcome != .none { promotions.append((next.peer, outcome)) }
    }

    private func discard(_ sha: String) {
        guard let transfer = incoming.removeValue(forKey: sha) else { return }
        transfer.file?.close()
        unlink(partPath(sha))
    }

    private func endPauseIfNothingHeld() {
        if gate.shortage != nil, !incoming.values.contains(where: \.held) { gate.resume() }
    }

    /// Bytes still to arrive for `sha`.
    private func remaining(_ sha: String) -> Int64 {
        guard let transfer = incoming[sha] else { return 0 }
        return max(0, transfer.offer.file.size - (transfer.file?.held ?? sizeOnDisk(sha)))
    }

    /// Bytes of the part file of `sha` (0 when there is none).
    private func sizeOnDisk(_ sha: String) -> Int64 {
        let size = (try? FileManager.default.attributesOfItem(atPath: partPath(sha)))?[.size] as? NSNumber
        return size?.int64Value ?? 0
    }

    /// Whether the rest of `sha` fits beside the rest of the transfers flowing, with the reserve left.
    private func admits(_ sha: String, now: Double) -> Bool {
        guard let freeBytes, let free = freeBytes() else { return true }
        let flowing = incoming.filter { $0.key != sha && !$0.value.held }.keys.reduce(Int64(0)) { $0 + remaining($1) }
        return gate.admit(remaining(sha) + flowing, freeBytes: free, now: now)
    }

    /// CREDIT for `sha` from the bytes held when there is room (the part file opened or reopened first), else hold it.
    private func grant(_ sha: String, now: Double) -> Outcome {
        guard var transfer = incoming[sha] else { return .none }
        guard admits(sha, now: now) else {
            incoming[sha]?.held = true
            return .none
        }
        if transfer.file == nil {
            do {
                transfer.file = try PartFile(
                    path: partPath(sha), sha256: sha, size: transfer.offer.file.size, resume: true)
            } catch {
                transfer.held = true
                incoming[sha] = transfer
                gate.writeFailed("\(error)", bytes: remaining(sha), freeBytes: freeBytes?() ?? 0, now: now)
                failures.append("\(transfer.offer.file.name) \(sha.prefix(12)): \(error)")
                return .none
            }
        }
        transfer.held = false
        transfer.uncredited = 0
        incoming[sha] = transfer
        endPauseIfNothingHeld()
        guard let file = transfer.file else { return .none }
        if file.isComplete { return complete(sha, now: now) }
        return .send(.credit(Credit(sha256: sha, offset: file.held, chunks: window)))
    }

    /// All bytes are held: verified and moved into the store. A failure to write, sync or move them (a full disk: direct
    /// writes are staged, so the last ones reach the disk here) drops the part file and holds the transfer, which the
    /// worker restarts when room returns (it has sent every byte and waits for STORED).
    private func complete(_ sha: String, now: Double) -> Outcome {
        guard let transfer = incoming[sha], let file = transfer.file else { return .none }
        do {
            if try file.finish() != nil {
                // The part file is gone; a waiting offer, if any, sends the bytes again from the first one.
                incoming[sha]?.file = nil
                replaceSender(sha, now: now)
                return .mismatch(Claim(offer: transfer.offer, peer: transfer.peer))
            }
            let path = try store.adopt(file.path, sha256: sha)
            incoming[sha] = nil
            return .stored(path: path, claims: [Claim(offer: transfer.offer, peer: transfer.peer)] + transfer.waiting)
        } catch {
            unlink(partPath(sha))
            incoming[sha]?.file = nil
            incoming[sha]?.held = true
            incoming[sha]?.lost = true
            gate.writeFailed("\(error)", bytes: transfer.offer.file.size, freeBytes: freeBytes?() ?? 0, now: now)
            failures.append("\(transfer.offer.file.name) \(sha.prefix(12)): \(error)")
            return .none
        }
    }
}
