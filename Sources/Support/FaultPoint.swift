// FaultPoint: named points in the coordinator and worker where a fault-injection test may freeze the process.
import Foundation

/// The phases of a cell's life at which the fault-injection matrix (docs/fault-injection.md) kills processes.
public enum FaultPhase: String, CaseIterable, Sendable {
    /// Worker: building a stage-2 cell's prefix cache.
    case prefixCache = "prefix-cache"
    /// Worker: halfway through an epoch's training batches.
    case midEpoch = "mid-epoch"
    /// Worker: an epoch's METRICS sent, its checkpoint not yet offered.
    case metricsBeforeCheckpoint = "metrics-before-checkpoint"
    /// Coordinator: part of a checkpoint received, the rest not.
    case transfer
    /// Worker: the last epoch done and its files flushed, DONE not yet sent.
    case beforeDone = "before-done"
    /// Coordinator: a report refresh writing the report files.
    case reportRefresh = "report-refresh"
    /// Lab coordinator: a submitted sweep's `submission.json` written, its ledger not yet opened.
    case submit
    /// Lab coordinator: an UPLOAD's bytes written, its UPLOAD_ACK not yet sent.
    case upload

    /// Points only a lab coordinator reaches (the fault matrix of one sweep leaves them out).
    public var isLabOnly: Bool { self == .submit || self == .upload }

    /// The process whose code holds the point.
    public var inCoordinator: Bool { self == .transfer || self == .reportRefresh || self == .submit || self == .upload }
}

/// An explicit test seam: `ablate coordinator|worker --fault-pause PHASE:N --fault-marker FILE` (hidden options)
/// arm it once at start-up. The N-th time the process reaches PHASE, the thread that reached it writes FILE and
/// waits until FILE is removed, so a test can kill this process (or the other one) at exactly that point. Unarmed,
/// `reach` costs one uncontended lock.
public final class FaultPoint: @unchecked Sendable {
    public static let shared = FaultPoint()

    private let lock = NSLock()
    private var phase: FaultPhase?
    private var remaining = 0
    private var marker = ""

    /// Arms the point (before any thread that reaches it starts).
    public func arm(_ phase: FaultPhase, occurrence: Int, marker: String) {
        lock.withLock {
            self.phase = phase
            remaining = max(1, occurrence)
            self.marker = marker
        }
    }

    /// Called where `phase` happens: returns at once unless this is the armed occurrence, which pauses.
    public func reach(_ phase: FaultPhase) {
        let path: String? = lock.withLock {
            guard self.phase == phase else { return nil }
            remaining -= 1
            guard remaining == 0 else { return nil }
            self.phase = nil
            return marker
        }
        guard let path else { return }
        _ = FileManager.default.createFile(atPath: path, contents: Data("\(phase.rawValue) \(getpid())\n".utf8))
        while FileManager.default.fileExists(atPath: path) { usleep(10_000) }
    }

    /// Parses `PHASE:N` (N ≥ 1; `PHASE` alone is `PHASE:1`).
    public static func parse(_ text: String) -> (FaultPhase, Int)? {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, let phase = FaultPhase(rawValue: first) else { return nil }
        guard parts.count == 2 else { return (phase, 1) }
        guard let count = Int(parts[1]), count >= 1 else { return nil }
        return (phase, count)
    }
}
