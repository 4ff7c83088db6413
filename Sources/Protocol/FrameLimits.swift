// FrameLimits: the largest frames a decoder accepts (payload, binary header, JSON header).

/// Size limits applied to every received message before anything is parsed.
///
/// A payload (frame 3 of CHUNK and DATA) may hold at most `maxChunkBytes`; a binary header (METRICS, CHUNK, DATA)
/// at most `maxFrameBytes` = `maxChunkBytes` + 64 KiB; a JSON header at most `maxJSONBytes`.
public struct FrameLimits: Sendable, Equatable {
    /// The default chunk size: 256 KiB.
    public static let defaultChunkBytes = 256 * 1024
    /// The default limit of a JSON header: 1 MiB.
    public static let defaultJSONBytes = 1024 * 1024
    /// Room allowed above the chunk size for a binary header frame: 64 KiB.
    public static let frameSlackBytes = 64 * 1024

    /// Largest payload frame (a file piece) accepted.
    public var maxChunkBytes: Int
    /// Largest JSON header frame accepted.
    public var maxJSONBytes: Int

    /// Limits for a given chunk size.
    public init(maxChunkBytes: Int = FrameLimits.defaultChunkBytes, maxJSONBytes: Int = FrameLimits.defaultJSONBytes) {
        self.maxChunkBytes = maxChunkBytes
        self.maxJSONBytes = maxJSONBytes
    }

    /// Largest binary header frame accepted: `maxChunkBytes` + 64 KiB.
    public var maxFrameBytes: Int { maxChunkBytes + Self.frameSlackBytes }

    /// The value for `ZMQ_MAXMSGSIZE` (a per-frame limit in libzmq): the largest frame any message may carry, so
    /// that libzmq disconnects a peer only for frames the decoder would refuse anyway.
    public var socketMaxFrameBytes: Int64 { Int64(max(maxFrameBytes, maxJSONBytes)) }
}
