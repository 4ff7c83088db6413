// ControlMessages: CONTROL and CONTROL_REPLY, a client's action on a sweep of a running coordinator and its answer.

/// What a CONTROL asks of the coordinator (docs/protocol.md, "Client actions").
public enum ControlAction: String, Codable, Sendable, CaseIterable {
    /// List the sweeps the coordinator serves, with their progress.
    case sweeps
    /// Stop the sweep's (or one variant's) running cells and assign none of its cells until `resume`.
    case cancel
    /// Lift a cancellation.
    case resume
    /// Failed cells back to pending with a fresh attempt budget.
    case retry
    /// More seeds for every variant (or one).
    case extend
    /// The sweep's latest report in `format` (its bytes then fetched with FETCH).
    case report
}

/// The report formats a `report` action names: the files a coordinator keeps refreshed in a sweep's directory.
public enum ControlReportFormat: String, Codable, Sendable, CaseIterable {
    case md, csv, json, html

    /// The file in the sweep's state directory: `report.<format>`.
    public var fileName: String { "report.\(rawValue)" }
}

/// A report file a coordinator holds for FETCH: its name, SHA-256 and size.
public struct ControlReportFile: Codable, Sendable, Equatable {
    public var name: String
    public var sha256: String
    public var size: Int64

    public init(name: String, sha256: String, size: Int64) {
        self.name = name
        self.sha256 = sha256
        self.size = size
    }
}

/// Client → coordinator: one action on one sweep. Which fields an action takes, and their limits, are checked at
/// decode time (`MessageValidation`); a field that the action does not take is refused, not ignored.
public struct ControlRequest: Codable, Sendable, Equatable {
    /// Chosen by the client (`PeerNames.nameProblem`, at most 64 bytes) and repeated in the reply.
    public var requestId: String
    /// The sweep acted on; for `sweeps`, empty for every sweep the coordinator serves.
    public var sweep: String
    public var action: ControlAction
    /// `cancel`, `resume`, `extend`, and `retry` with `failed`: only this variant.
    public var variant: String?
    /// `retry`: cell ids or unique prefixes of at least 6 lower-case hex digits (at most `FieldLimits.maxControlCells`).
    public var cells: [String]?
    /// `retry`: every failed cell (of `variant`).
    public var failed: Bool?
    /// `extend`: the seeds to add, distinct (at most `FieldLimits.maxControlSeeds`).
    public var seeds: [UInt64]?
    /// `report`: which file.
    public var format: ControlReportFormat?

    public init(
        requestId: String, sweep: String, action: ControlAction, variant: String? = nil, cells: [String]? = nil,
        failed: Bool? = nil, seeds: [UInt64]? = nil, format: ControlReportFormat? = nil
    ) {
        self.format = format
        self.requestId = requestId
        self.sweep = sweep
        self.action = action
        self.variant = variant
        self.cells = cells
        self.failed = failed
        self.seeds = seeds
    }
}

/// Coordinator → client: the outcome of one CONTROL. `ok` false comes with `error` (one line) and no `result`.
public struct ControlReply: Codable, Sendable, Equatable {
    public var requestId: String
    public var ok: Bool
    public var error: String?
    public var result: ControlResult?

    public init(requestId: String, ok: Bool, error: String? = nil, result: ControlResult? = nil) {
        self.requestId = requestId
        self.ok = ok
        self.error = error
        self.result = result
    }

    /// A refusal of request `requestId` for `error`.
    public static func refused(_ requestId: String, _ error: String) -> ControlReply {
        ControlReply(requestId: requestId, ok: false, error: error)
    }
}

/// What an action did, as a JSON object; each action fills the fields it uses.
public struct ControlResult: Codable, Sendable, Equatable {
    /// One line saying what happened (`cancelled variant b of sweep s: 1 running cell stopped, 2 cells held`).
    public var message: String
    /// `sweeps`: one entry per sweep served.
    public var sweeps: [SweepSummary]?
    /// The cells the action changed (cancelled, resumed, retried or added), in plan order.
    public var cells: [ControlCell]?
    /// `extend`: cells of the requested seeds that were planned already (reported, not added again).
    public var existing: [ControlCell]?
    /// The sweep's cancelled variants after the action, sorted.
    public var cancelledVariants: [String]?
    /// `report`: the file, held by the coordinator for FETCH until it is replaced by newer ones.
    public var report: ControlReportFile?

    public init(
        message: String, sweeps: [SweepSummary]? = nil, cells: [ControlCell]? = nil, existing: [ControlCell]? = nil,
        cancelledVariants: [String]? = nil, report: ControlReportFile? = nil
    ) {
        self.report = report
        self.message = message
        self.sweeps = sweeps
        self.cells = cells
        self.existing = existing
        self.cancelledVariants = cancelledVariants
    }
}

/// A cell named in a CONTROL_REPLY.
public struct ControlCell: Codable, Sendable, Equatable {
    public var id: String
    public var variant: String
    public var seed: UInt64
    /// `pending`, `running`, `done`, `failed` or `cancelled` (pending, in a cancelled variant).
    public var state: String

    public init(id: String, variant: String, seed: UInt64, state: String) {
        self.id = id
        self.variant = variant
        self.seed = seed
        self.state = state
    }
}

/// One sweep's progress in a `sweeps` reply. `pending` leaves out the `cancelled` cells.
public struct SweepSummary: Codable, Sendable, Equatable {
    public var name: String
    public var cells: Int
    public var done: Int
    public var running: Int
    public var pending: Int
    public var failed: Int
    public var cancelled: Int
    /// As STATUS_REPLY's `summary.eta_seconds`; absent while no pace is known.
    public var etaSeconds: Double?
    public var cancelledVariants: [String]
    /// The latest report's verdict of each variant against the baseline (`better`, `worse`, `equivalent`,
    /// `undecided` or `not tested`); absent before the first report.
    public var verdicts: [String: String]?

    /// The verdicts a `sweeps` reply may carry.
    public static let verdictNames: Set<String> = ["better", "worse", "equivalent", "undecided", "not tested"]

    public init(
        name: String, cells: Int, done: Int, running: Int, pending: Int, failed: Int, cancelled: Int,
        etaSeconds: Double?, cancelledVariants: [String], verdicts: [String: String]? = nil
    ) {
        self.verdicts = verdicts
        self.name = name
        self.cells = cells
        self.done = done
        self.running = running
        self.pending = pending
        self.failed = failed
        self.cancelled = cancelled
        self.etaSeconds = etaSeconds
        self.cancelledVariants = cancelledVariants
    }
}
