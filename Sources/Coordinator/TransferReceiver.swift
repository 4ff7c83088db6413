// TransferReceiver: incoming checkpoint files — credit-based chunks appended in order, hashed, verified, renamed.
import Crypto
import Foundation
import WireProtocol

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
        var handle: FileHandle
        var held: Int64
        var hasher: SHA256
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
            incoming[sha] = existing
            return .send(.credit(Credit(sha256: sha, offset: existing.held, chunks: window)))
        }
        let part = "\(incomingDirectory)/\(sha).part"
        var hasher = SHA256()
        var held: Int64 = 0
        if let bytes = FileManager.default.contents(atPath: part), Int64(bytes.count) <= offer.file.size {
            hasher.update(data: bytes)
            held = Int64(bytes.count)
        } else if !FileManager.default.createFile(atPath: part, contents: nil) {
            throw ArtifactStoreError("\(part): cannot create")
        }
        guard let handle = FileHandle(forWritingAtPath: part) else { throw ArtifactStoreError("\(part): cannot open for writing") }
        try handle.truncate(atOffset: UInt64(held))
        try handle.seekToEnd()
        incoming[sha] = Incoming(offer: offer, handle: handle, held: held, hasher: hasher)
        if held == offer.file.size { return try complete(sha) }
        return .send(.credit(Credit(sha256: sha, offset: held, chunks: window)))
    }

    /// One CHUNK: appended when it continues the bytes held; duplicates are ignored and a gap gets a fresh credit.
    public func receive(_ chunk: FileChunk) throws -> Outcome {
        guard var transfer = incoming[chunk.sha256] else { return .none }
        guard chunk.offset == transfer.held, chunk.totalSize == transfer.offer.file.size else {
            if chunk.offset > transfer.held {
                return .send(.credit(Credit(sha256: chunk.sha256, offset: transfer.held, chunks: window)))
            }
            return .none
        }
        try transfer.handle.write(contentsOf: chunk.payload)
        transfer.hasher.update(data: chunk.payload)
        transfer.held += Int64(chunk.payload.count)
        incoming[chunk.sha256] = transfer
        if transfer.held >= transfer.offer.file.size { return try complete(chunk.sha256) }
        return .send(.credit(Credit(sha256: chunk.sha256, offset: transfer.held, chunks: window)))
    }

    private func complete(_ sha: String) throws -> Outcome {
        guard let transfer = incoming.removeValue(forKey: sha) else { return .none }
        let part = "\(incomingDirectory)/\(sha).part"
        let digest = Hex.encode(transfer.hasher.finalize())
        guard digest == sha, transfer.held == transfer.offer.file.size else {
            try? transfer.handle.close()
            try? FileManager.default.removeItem(atPath: part)
            return .mismatch(transfer.offer)
        }
        try transfer.handle.synchronize()
        try transfer.handle.close()
        let path = try store.adopt(part, sha256: sha)
        return .stored(transfer.offer, path: path)
    }
}
