// StorageGate: whether the state directory has room for more incoming bytes — a pure decision on free-space readings.
import Foundation

/// Decides, from readings of the state directory's free space taken by the caller, whether a transfer may be
/// granted credit: the bytes it still needs plus those of the transfers already flowing must leave `reserveBytes`
/// free (room for the ledger, results, reports and logs). A refusal, or a write that failed for want of space,
/// pauses: it is remembered (for `status` and systemd) and re-checked every `recheckSeconds` until readings show
/// room again. No I/O and no clock of its own, so it is tested with made-up readings and a manual clock.
public struct StorageGate: Sendable, Equatable {
    /// Why transfers are held.
    public struct Shortage: Sendable, Equatable {
        /// Free bytes at the last reading.
        public var freeBytes: Int64
        /// Free bytes wanted before transfers resume (what is still to arrive plus the reserve).
        public var neededBytes: Int64
        /// When set, a write that failed (its error), rather than a reading below the need.
        public var failure: String?
        /// When the pause began.
        public var since: Double
    }

    public let reserveBytes: Int64
    public let recheckSeconds: Double
    public private(set) var shortage: Shortage?
    private var nextCheck = -Double.infinity

    public init(reserveBytes: Int64, recheckSeconds: Double = 1) {
        self.reserveBytes = max(0, reserveBytes)
        self.recheckSeconds = recheckSeconds
    }

    /// Whether `bytes` more fit in `freeBytes` with the reserve left over. A refusal starts (or updates) the pause.
    public mutating func admit(_ bytes: Int64, freeBytes: Int64, now: Double) -> Bool {
        let needed = bytes.addingReportingOverflow(reserveBytes)
        let need = needed.overflow ? Int64.max : needed.partialValue
        if freeBytes >= need { return true }
        shortage = Shortage(freeBytes: freeBytes, neededBytes: need, failure: nil, since: shortage?.since ?? now)
        nextCheck = now + recheckSeconds
        return false
    }

    /// A write into the state directory failed (most likely for want of space): transfers pause until a reading shows
    /// room for `bytes` (what was being written and is still to come) plus the reserve.
    public mutating func writeFailed(_ failure: String, bytes: Int64, freeBytes: Int64, now: Double) {
        let needed = bytes.addingReportingOverflow(reserveBytes)
        shortage = Shortage(
            freeBytes: freeBytes, neededBytes: needed.overflow ? Int64.max : needed.partialValue,
            failure: failure, since: shortage?.since ?? now)
        nextCheck = now + recheckSeconds
    }

    /// Whether a paused gate should take a new reading now.
    public func recheckDue(now: Double) -> Bool { shortage != nil && now >= nextCheck }

    /// Nothing is held any more: the pause ends.
    public mutating func resume() {
        shortage = nil
        nextCheck = -Double.infinity
    }

    /// e.g. `paused: state directory full (3.2 MB free, need 520.0 MB)`; nil when not paused.
    public var statusLine: String? {
        guard let shortage else { return nil }
        return String(
            format: "paused: state directory full (%.1f MB free, need %.1f MB)",
            Double(shortage.freeBytes) / 1_000_000, Double(shortage.neededBytes) / 1_000_000)
    }
}
