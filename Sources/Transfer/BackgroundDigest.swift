// BackgroundDigest: SHA-256 of a stream computed on its own serial queue, so a receiving loop only copies and writes.
import Crypto
import Dispatch
import Foundation
import WireProtocol

/// Hashes pieces in the order they are given, on a private serial dispatch queue (not the cooperative pool). At most
/// `depth` pieces wait at once: `update` blocks the caller beyond that, so memory stays bounded when hashing is the
/// slower side. `finish` waits for the pieces given so far and returns the hex digest.
public final class BackgroundDigest: @unchecked Sendable {
    // `hasher` is touched only on `queue` (and read by `finish` after a `queue.sync`).
    private var hasher = SHA256()
    private let queue = DispatchQueue(label: "ablate.digest")
    private let slots: DispatchSemaphore

    public init(depth: Int = 16) {
        slots = DispatchSemaphore(value: max(1, depth))
    }

    /// Continues the digest with bytes that were already fed synchronously (e.g. a resumed `.part` file's).
    public func updateNow(_ bytes: Data) {
        queue.sync { hasher.update(data: bytes) }
    }

    /// Queues `bytes` for hashing after every piece given before.
    public func update(_ bytes: FrameBytes) {
        slots.wait()
        queue.async { [self] in
            bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            slots.signal()
        }
    }

    /// The digest of every piece given so far (lowercase hex); waits for the queue to catch up.
    public func finish() -> String {
        queue.sync { Hex.encode(hasher.finalize()) }
    }
}
