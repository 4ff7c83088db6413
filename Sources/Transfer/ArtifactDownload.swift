// ArtifactDownload: one artifact fetched from the coordinator by hash into the worker's cache, verified before use.
import Foundation
import WireProtocol

/// A download in progress: FETCH requests go out up to a window; DATA pieces are appended in order and hashed;
/// the file is renamed into the cache only when its SHA-256 matches.
public final class ArtifactDownload {
    public let ref: ArtifactRef
    private let cache: ArtifactCache
    private var part: PartFile
    /// Bytes received and verified in order so far.
    public var received: Int64 { part.held }
    private var requested: Int64 = 0
    private var outstanding = 0
    public private(set) var failures = 0

    /// The outcome of a piece.
    public enum Progress: Equatable {
        case partial
        case complete(path: String)
        /// The bytes did not hash to the expected value; the download starts over.
        case corrupt(String)
    }

    public init(ref: ArtifactRef, cache: ArtifactCache) throws {
        self.ref = ref
        self.cache = cache
        part = try Self.emptyPart(ref, cache)
    }

    private static func emptyPart(_ ref: ArtifactRef, _ cache: ArtifactCache) throws -> PartFile {
        try PartFile(path: cache.partPath(ref.sha256), sha256: ref.sha256, size: ref.size, resume: false)
    }

    private func restart() throws {
        part.close()
        part = try Self.emptyPart(ref, cache)
        requested = 0
        outstanding = 0
    }

    /// After a reconnect nothing is in flight any more: ask again from the bytes held.
    public func connectionReset() {
        requested = received
        outstanding = 0
    }

    /// The FETCH requests to send now.
    public func requests(window: Int, chunkBytes: Int) -> [Fetch] {
        var out: [Fetch] = []
        while outstanding < window, requested < ref.size {
            let length = Int(min(Int64(chunkBytes), ref.size - requested))
            out.append(Fetch(sha256: ref.sha256, offset: requested, length: length))
            requested += Int64(length)
            outstanding += 1
        }
        return out
    }

    /// Whether the file is already complete (a zero-byte artifact needs no request).
    public func completeIfEmpty() throws -> Progress? {
        ref.size == 0 ? try finish() : nil
    }

    /// One DATA piece.
    public func receive(_ chunk: FileChunk) throws -> Progress {
        guard try part.append(chunk.payload, at: chunk.offset) else { return .partial }
        outstanding = max(0, outstanding - 1)
        return part.isComplete ? try finish() : .partial
    }

    private func finish() throws -> Progress {
        if let digest = try part.finish() {
            failures += 1
            try restart()
            return .corrupt(
                "\(ref.name): received bytes hash to \(digest.prefix(12))…, expected \(ref.sha256.prefix(12))…")
        }
        let target = cache.path(ref.sha256)
        if rename(part.path, target) != 0 {
            throw ArtifactStoreError("\(target): cannot move the downloaded file into place (errno \(errno))")
        }
        return .complete(path: target)
    }
}
