// TransferReceiver: incoming checkpoint files — credit-based chunks appended in order, hashed, verified, renamed.
import Foundation
import WireProtocol
import WorkerKit

/// Receives files offered by workers into `STATE/incoming/<sha256>.part`, keyed by their SHA-256 so a transfer
/// broken by a reconnect (or a coordinator restart) resumes from the bytes already held. A file is moved into the
/// artifact store only after its bytes hash to the offered value.
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
        var file: PartFile
        /// Chunks appended since the last CREDIT.
        var uncredited = 0
    }

    private let incomingDirectory: String
    private let store: ArtifactStore
    private let window: Int
    private var incoming: [String: Incoming] = [:]

    public init(stateDirectory: String, store: ArtifactStore, window: Int) throws {
        incomingDirectory = "\(stateDirectory)/incoming"
        self.store = store
        self.window = window
        try FileManager.default.createDirectory(atPath: incomingDirectory, withIntermediateDirectories: true)
    }

    /// Transfers in progress.
    public var activeCount: Int { incoming.count }

    /// A current OFFER of a file the store lacks: answer with CREDIT from the bytes already held.
    public func accept(_ offer: Offer) throws -> Outcome {
        let sha = offer.file.sha256
        if var existing = incoming[sha] {
            existing.offer = offer
            existing.uncredited = 0
            incoming[sha] = existing
            return .send(.credit(Credit(sha256: sha, offset: existing.file.held, chunks: window)))
        }
        let file = try PartFile(path: "\(incomingDirectory)/\(sha).part", sha256: sha, size: offer.file.size, resume: true)
        incoming[sha] = Incoming(offer: offer, file: file)
        if file.isComplete { return try complete(sha) }
        return .send(.credit(Credit(sha256: sha, offset: file.held, chunks: window)))
    }

    /// Chunks appended between two CREDITs: half the window (at least one), so the worker always has half a
    /// window in flight while a CREDIT travels, and there is one CREDIT per two chunks rather than per chunk.
    public var creditEvery: Int { max(1, window / 2) }

    /// One CHUNK: appended when it continues the bytes held; duplicates are ignored and a gap gets a fresh credit.
    /// Every `creditEvery` appended chunks are answered with one CREDIT for a whole window from the bytes held.
    public func receive(_ chunk: FileChunk) throws -> Outcome {
        guard var transfer = incoming[chunk.sha256] else { return .none }
        let file = transfer.file
        guard chunk.totalSize == transfer.offer.file.size, try file.append(chunk.payload, at: chunk.offset) else {
            if chunk.offset > file.held {
                transfer.uncredited = 0
                incoming[chunk.sha256] = transfer
                return .send(.credit(Credit(sha256: chunk.sha256, offset: file.held, chunks: window)))
            }
            return .none
        }
        if file.isComplete { return try complete(chunk.sha256) }
        transfer.uncredited += 1
        guard transfer.uncredited >= creditEvery else {
            incoming[chunk.sha256] = transfer
            return .none
        }
        transfer.uncredited = 0
        incoming[chunk.sha256] = transfer
        return .send(.credit(Credit(sha256: chunk.sha256, offset: file.held, chunks: window)))
    }

    private func complete(_ sha: String) throws -> Outcome {
        guard let transfer = incoming.removeValue(forKey: sha) else { return .none }
        if try transfer.file.finish() != nil { return .mismatch(transfer.offer) }
        let path = try store.adopt(transfer.file.path, sha256: sha)
        return .stored(transfer.offer, path: path)
    }
}
