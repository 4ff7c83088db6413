// CoordinatorSettings: the coordinator's timing, retry and transfer settings, with their defaults.
import Foundation

/// Settings of a coordinator process. Defaults follow docs/protocol.md: heartbeats every second, a peer is dead
/// after 5 silent intervals, 256 KiB chunks with 4 in flight, 3 attempts per cell.
public struct CoordinatorSettings: Sendable, Equatable {
    public var heartbeatMs = 1000
    public var liveness = 5
    public var maxAttempts = 3
    public var chunkBytes = 256 * 1024
    public var window = 4
    /// After a restart, how long a cell that was running waits for its worker to come back before it is requeued
    /// (a worker notices the restart within its liveness window, then reconnects with a backoff of up to 32 s).
    public var restartGraceMs = 15_000
    /// Messages a peer may send per second before further ones are dropped (and counted).
    public var maxMessagesPerSecond = 20_000
    /// Bytes that must stay free in the state directory's filesystem: a transfer gets credit only if its remaining
    /// bytes (and those of the transfers flowing) leave this much (room for the ledger, results, reports and logs).
    public var minFreeBytes: Int64 = 256 * 1_000_000

    public init() {}

    /// Milliseconds of silence after which a worker is declared dead.
    public var expiryMs: Int { heartbeatMs * liveness }

    /// Every problem at once, one per line; empty when the settings are usable.
    public func problems() -> [String] {
        var out: [String] = []
        if heartbeatMs < 10 { out.append("heartbeat: \(heartbeatMs) ms is below the minimum of 10 ms") }
        if liveness < 2 { out.append("liveness: \(liveness) must be at least 2 intervals") }
        if restartGraceMs < expiryMs {
            out.append("restart grace: \(restartGraceMs) ms must be at least the liveness window (\(expiryMs) ms)")
        }
        if maxAttempts < 1 { out.append("max_attempts: \(maxAttempts) must be at least 1") }
        if chunkBytes < 4096 || chunkBytes > 4 * 1024 * 1024 {
            out.append("chunk size: \(chunkBytes) bytes is outside 4 KiB…4 MiB")
        }
        if window < 1 || window > 64 { out.append("window: \(window) chunks is outside 1…64") }
        if minFreeBytes < 0 { out.append("minimum free space: \(minFreeBytes) bytes must not be negative") }
        return out
    }
}
