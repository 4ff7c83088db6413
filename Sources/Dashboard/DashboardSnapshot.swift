// DashboardSnapshot: the bytes every dashboard endpoint answers with, built off the request path, and its lock.
import Foundation
import Synchronization

/// What the HTTP handlers serve: JSON encoded once per refresh and the report files as read, so that a request
/// only copies bytes out of memory (no SQLite, no file read, no encoding on the request path).
public struct DashboardSnapshot: Sendable, Equatable {
    /// `GET /api/status`: the document of `ablate status --json`.
    public var status: [UInt8]
    /// `GET /api/curves`: per cell its epochs' metric and losses (`DashboardCurves`).
    public var curves: [UInt8]
    /// `GET /api/report`: the state directory's `report.json` as it is; nil before the first report.
    public var reportJSON: [UInt8]?
    /// `GET /report.html`: the state directory's `report.html` as it is; nil before the first report.
    public var reportHTML: [UInt8]?
    /// When the snapshot was built (seconds since 1970), 0 before the first refresh.
    public var builtAt: Double

    /// The snapshot served before the first refresh: a status with no cells.
    public static let starting = DashboardSnapshot(
        status: Array(#"{"cells":[],"notes":["starting"],"paused":null,"summary":null,"sweep":"?","workers":[]}"#.utf8),
        curves: Array(#"{"cells":[],"metric":{"goal":"max","name":"val_macro_f1"}}"#.utf8), reportJSON: nil,
        reportHTML: nil, builtAt: 0)

    /// A snapshot from its parts.
    public init(status: [UInt8], curves: [UInt8], reportJSON: [UInt8]?, reportHTML: [UInt8]?, builtAt: Double) {
        self.status = status
        self.curves = curves
        self.reportJSON = reportJSON
        self.reportHTML = reportHTML
        self.builtAt = builtAt
    }
}

/// The current snapshot behind a lock: the refresher thread replaces it, request handlers copy it out (a few
/// reference-counted arrays; the lock is held for no I/O).
public final class DashboardSnapshotStore: Sendable {
    private let current = Mutex(DashboardSnapshot.starting)

    /// A store holding `DashboardSnapshot.starting`.
    public init() {}

    /// The latest snapshot.
    public var snapshot: DashboardSnapshot { current.withLock { $0 } }

    /// Replaces the snapshot.
    public func publish(_ snapshot: DashboardSnapshot) { current.withLock { $0 = snapshot } }
}
