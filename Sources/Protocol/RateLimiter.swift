// RateLimiter: a per-peer token bucket with an injected clock and bounded memory, and drop counters by reason.

/// Limits each peer to `ratePerSecond` messages per second, with bursts up to `capacity` (one second's worth unless
/// given).
///
/// Pure: the caller passes the time (seconds on a monotonic clock). A peer silent for `capacity / ratePerSecond`
/// seconds has a full bucket again and is forgotten, which loses nothing; at most `maxPeers` peers are tracked,
/// the least recently seen being forgotten first when more appear at once.
public struct RateLimiter<Peer: Hashable & Sendable>: Sendable {
    private struct Bucket: Sendable {
        var tokens: Double
        var last: Double
    }

    /// Tokens added per second.
    public let ratePerSecond: Double
    /// Bucket size: the largest burst (one second's worth of messages by default).
    public let capacity: Double
    /// Most peers tracked at once.
    public let maxPeers: Int

    private var buckets: [Peer: Bucket] = [:]
    private var lastSweep = -Double.infinity

    /// - Parameters:
    ///   - ratePerSecond: messages allowed per peer per second (default 20,000).
    ///   - burst: the bucket size, at least 1 (default: `ratePerSecond`, one second's worth).
    ///   - maxPeers: most peers tracked at once (default 4,096).
    public init(ratePerSecond: Double = 20_000, burst: Double? = nil, maxPeers: Int = 4096) {
        self.ratePerSecond = max(ratePerSecond, .leastNormalMagnitude)
        capacity = burst.map { max($0, 1) } ?? self.ratePerSecond
        self.maxPeers = max(maxPeers, 1)
    }

    /// Peers currently tracked.
    public var trackedPeers: Int { buckets.count }

    /// Seconds after which an idle peer's bucket is full again.
    private var refillSeconds: Double { capacity / ratePerSecond }

    /// Takes one token from `peer`'s bucket; false when it is empty (the message should be dropped).
    public mutating func allow(peer: Peer, now: Double) -> Bool {
        if now - lastSweep >= refillSeconds { forgetIdle(now: now) }
        var bucket = buckets[peer] ?? Bucket(tokens: capacity, last: now)
        bucket.tokens = min(capacity, bucket.tokens + max(0, now - bucket.last) * ratePerSecond)
        bucket.last = max(bucket.last, now)
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        buckets[peer] = bucket
        if buckets.count > maxPeers { shrink(now: now) }
        return allowed
    }

    /// Forgets every peer whose bucket has refilled.
    private mutating func forgetIdle(now: Double) {
        let horizon = refillSeconds
        buckets = buckets.filter { now - $0.value.last < horizon }
        lastSweep = now
    }

    /// Over `maxPeers`: forgets idle peers, then the least recently seen quarter if still too many.
    private mutating func shrink(now: Double) {
        forgetIdle(now: now)
        guard buckets.count > maxPeers else { return }
        let keep = max(1, maxPeers * 3 / 4)
        let newest = buckets.sorted { $0.value.last > $1.value.last }.prefix(keep)
        buckets = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
    }
}

/// Counts of dropped messages per reason (`DecodeError.reason`, `rate`, …).
public struct DropCounters: Sendable, Equatable {
    /// The reason key of messages dropped by the rate limiter.
    public static let rateLimited = "rate"

    /// Count per reason.
    public private(set) var counts: [String: Int] = [:]

    public init() {}

    /// Counts one drop for `reason`.
    public mutating func record(_ reason: String) { counts[reason, default: 0] += 1 }

    /// Counts one drop for a decoding failure, under its `reason` key.
    public mutating func record(_ error: DecodeError) { record(error.reason) }

    /// Drops counted for `reason` (0 when none).
    public subscript(reason: String) -> Int { counts[reason] ?? 0 }

    /// All drops.
    public var total: Int { counts.values.reduce(0, +) }
}
