// CoordinatorServer+Control: the loop's side of CONTROL — the sender's role, planning an extension, the scheduler's answer.
import AblateSupport
import Foundation
import WireProtocol

extension CoordinatorServer {
    /// The role a connection's User-Id gives it (`workers/…`, `clients/…`); nil without CURVE, where every peer may
    /// act as both (loopback or `--insecure`).
    static func role(of userID: String?) -> KeyRole? {
        userID.flatMap(AuthorizedKey.role(ofUserID:))
    }

    /// Why a peer with `userID` may not send a CONTROL with `action`, or nil when it may: with CURVE only keys in
    /// `clients/` may; without CURVE every peer may.
    public static func controlRefusal(userID: String?, action: ControlAction) -> String? {
        guard let userID, role(of: userID) != .client else { return nil }
        return "key \(userID) may not \(action.rawValue): only keys in clients/ may"
    }

    /// One CONTROL: refused for a key that is not a client's; for `extend`, the new cells are planned here (the
    /// scheduler decides which are new); then the scheduler acts and answers. Logged with the key's name.
    func control(_ request: ControlRequest, peer: PeerID, userID: String?, socket: any Outbox) throws {
        let client = userID ?? "loopback"
        if let refusal = Self.controlRefusal(userID: userID, action: request.action) {
            note("refused CONTROL \(request.action.rawValue) from \(client): not a client key", kind: "control_refused")
            return try execute(
                [.send(peer, .controlReply(.refused(request.requestId, refusal)))], socket: socket)
        }
        var candidates: ExtensionCandidates?
        if request.action == .extend, request.sweep == scheduler.sweepName {
            let planned = setup.extensions.candidates(variant: request.variant, seeds: request.seeds ?? [])
            candidates = planned
            if planned.refusal == nil {
                // Code and inputs records of the new cells, as the sweep's own cells have (a done cell's are kept).
                // A failed write (a full disk) refuses this request; the coordinator goes on.
                do {
                    let identities = try setup.extensions.identities(of: planned.targets)
                    try setup.ledger.setCode(identities.code)
                    try setup.ledger.setInputs(identities.inputs)
                } catch {
                    candidates = ExtensionCandidates(refusal: "cannot record the new cells: \(error)")
                }
            }
        }
        var report: ControlReportFile?
        if request.action == .report, request.sweep == scheduler.sweepName, let format = request.format {
            report = heldReport(format)
        }
        try execute(
            scheduler.control(request, from: peer, client: client, extension: candidates, report: report, now: now),
            socket: socket)
    }

    /// The sweep's `report.<format>` as it is now, read into memory and held for FETCH (the refresher may replace
    /// the file meanwhile: the bytes fetched are those listed); nil when there is none, or it is too large.
    private func heldReport(_ format: ControlReportFormat) -> ControlReportFile? {
        let path = "\(setup.store.stateDirectory)/\(format.fileName)"
        guard let data = FileManager.default.contents(atPath: path), Int64(data.count) <= FieldLimits.maxReportBytes
        else { return nil }
        let bytes = [UInt8](data)
        let sha = SHA256Hex.of(bytes)
        reports.hold(sha, bytes)
        return ControlReportFile(name: format.fileName, sha256: sha, size: Int64(bytes.count))
    }

    /// A FETCH of a report file this loop holds: answered with DATA (or FETCH_ERROR past its end) without a session,
    /// since clients have none. Returns false when `fetch` names no held report.
    func serveReport(_ fetch: Fetch, peer: PeerID, socket: any Outbox) throws -> Bool {
        guard let bytes = reports.bytes(fetch.sha256) else { return false }
        try answer(fetch, size: Int64(bytes.count), peer: peer, socket: socket) { offset, length in
            let start = Int(offset)
            return Array(bytes[start..<min(bytes.count, start + max(0, length))])
        }
        return true
    }
}

/// The report files a loop has listed to clients (`report` action), by SHA-256, the newest few kept for FETCH.
final class HeldReports {
    private var held: [(sha: String, bytes: [UInt8])] = []
    /// Files kept, and the most bytes they may hold together (the newest is always kept); an older one's FETCH gets
    /// FETCH_ERROR and the client asks for the report again.
    static let limit = 8
    static let byteLimit = 128 << 20

    func hold(_ sha: String, _ bytes: [UInt8]) {
        held.removeAll { $0.sha == sha }
        held.append((sha, bytes))
        while held.count > 1,
            held.count > Self.limit || held.reduce(0, { $0 + $1.bytes.count }) > Self.byteLimit
        {
            held.removeFirst()
        }
    }

    func bytes(_ sha: String) -> [UInt8]? { held.last { $0.sha == sha }?.bytes }
}
