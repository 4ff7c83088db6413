// CoordinatorServer+Control: the loop's side of CONTROL — the sender's role, planning an extension, the scheduler's answer.
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
        try execute(
            scheduler.control(request, from: peer, client: client, extension: candidates, now: now), socket: socket)
    }
}
