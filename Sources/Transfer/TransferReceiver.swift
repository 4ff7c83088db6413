// TransferReceiver: incoming checkpoint files — credit-based chunks appended in order, hashed, verified, renamed.
import Foundation
import WireProtocol
import AblateSupport

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
public final class TransferReceiver {
    /// What to do after an offer or a chunk.
    public enum Outcome: Equatable {
        case none
        case send(Message)
        /// The file is complete and verified at `path` (now in the artifact store).
        case stored(Offer, path: String)
        /// The bytes did not match the offered hash; they were discarded.
        case mismatch(Offer)
    }

    private struct Incoming {
        var offer: Offer
        /// The peer of the latest offer (held credit goes there when room returns).
        var peer: PeerID
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

    /// `freeBytes` reads the free space of the state directory's filesystem (nil: no check, credit is always granted);
    /// `reserveBytes` is what must stay free.
    public init(stateDirectory: String, store: ArtifactStore, window: Int, reserveBytes: Int64 = 0,
                freeBytes: (() -> Int64?)? = nil) throws {
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

    /// The writes that failed since the last call, one line each (what was written and the error).
    public func takeFailures() -> [String] {
        defer { failures.removeAll() }
        return failures
    }

    /// Transfers held for want of room.
    public var heldCount: Int { incoming.values.filter(\.held).count }

    /// A current OFFER of a file the store lacks: answer with CREDIT from the bytes already held, or hold it while
    /// the state directory lacks room. An offer of a newer version of a file of the same cell ends the older one's
    /// transfer (the worker sends only the latest version).
    public func accept(_ offer: Offer, peer: PeerID = [], now: Double = 0) throws -> Outcome {
        let sha = offer.file.sha256
        unclaimed.remove(sha)
        for (other, transfer) in incoming where other != sha && transfer.offer.cell == offer.cell
            && transfer.offer.file.name == offer.file.name && transfer.offer.attempt <= offer.attempt {
            discard(other)
        }
        if var existing = incoming[sha] {
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
                out.append((transfer.peer, .send(.disconnect(Disconnect(
                    reason: "transfer of \(transfer.offer.file.name) \(sha.prefix(12)) interrupted by a full state directory; offer it again")))))
            } else {
                let outcome = grant(sha, now: now)
                if outcome != .none { out.append((transfer.peer, outcome)) }
            }
        }
        endPauseIfNothingHeld()
        return out
    }

    /// Removes the transfers whose offer `isGone` says can no longer be resumed (its attempt ended or was
    /// superseded), with their part files. Returns the offers removed.
    public func abandon(where isGone: (Offer) -> Bool) -> [Offer] {
        let gone = incoming.filter { isGone($0.value.offer) }
        for sha in gone.keys { discard(sha) }
        endPauseIfNothingHeld()
        return gone.values.map(\.offer)
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
                transfer.file = try PartFile(path: partPath(sha), sha256: sha, size: transfer.offer.file.size, resume: true)
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
                incoming[sha] = nil
                return .mismatch(transfer.offer)
            }
            let path = try store.adopt(file.path, sha256: sha)
            incoming[sha] = nil
            return .stored(transfer.offer, path: path)
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
