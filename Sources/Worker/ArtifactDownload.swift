// ArtifactDownload: one artifact fetched from the coordinator by hash into the worker's cache, verified before use.
import Crypto
import Foundation
import WireProtocol

/// The worker's artifact cache: `DIR/<sha256>` files, each verified against its SHA-256 when it arrived.
public struct ArtifactCache: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public func path(_ sha256: String) -> String { "\(directory)/\(sha256)" }

    /// Whether a verified copy of `ref` is held.
    public func has(_ ref: ArtifactRef) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path(ref.sha256)),
              let size = attributes[.size] as? NSNumber else { return false }
        return size.int64Value == ref.size
    }
}

/// A download in progress: FETCH requests go out up to a window; DATA pieces are appended in order and hashed;
/// the file is renamed into the cache only when its SHA-256 matches.
public final class ArtifactDownload {
    public let ref: ArtifactRef
    private let cache: ArtifactCache
    private var handle: FileHandle?
    private var hasher = SHA256()
    public private(set) var received: Int64 = 0
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
        try restart()
    }

    private var partPath: String { cache.path(ref.sha256) + ".part" }

    private func restart() throws {
        try? handle?.close()
        guard FileManager.default.createFile(atPath: partPath, contents: nil), let handle = FileHandle(forWritingAtPath: partPath) else {
            throw TrainingError.badData("\(partPath): cannot create the download file")
        }
        self.handle = handle
        hasher = SHA256()
        received = 0
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
        guard chunk.offset == received, let handle else { return .partial }
        outstanding = max(0, outstanding - 1)
        try handle.write(contentsOf: chunk.payload)
        hasher.update(data: chunk.payload)
        received += Int64(chunk.payload.count)
        return received >= ref.size ? try finish() : .partial
    }

    private func finish() throws -> Progress {
        let digest = Hex.encode(hasher.finalize())
        try handle?.synchronize()
        try handle?.close()
        handle = nil
        guard digest == ref.sha256, received == ref.size else {
            failures += 1
            try restart()
            return .corrupt("\(ref.name): received bytes hash to \(digest.prefix(12))…, expected \(ref.sha256.prefix(12))…")
        }
        let target = cache.path(ref.sha256)
        if rename(partPath, target) != 0 {
            throw TrainingError.badData("\(target): cannot move the downloaded file into place (errno \(errno))")
        }
        return .complete(path: target)
    }
}
