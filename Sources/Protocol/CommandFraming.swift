// CommandFraming: per command, its name on the wire, how many frames it has and how its header is encoded.

extension Command {
    /// The command's name in docs and logs: `HELLO`, `METRICS_ACK`, `FETCH_ERROR`, …
    public var wireName: String {
        switch self {
        case .hello: "HELLO"
        case .welcome: "WELCOME"
        case .heartbeat: "HEARTBEAT"
        case .assign: "ASSIGN"
        case .metrics: "METRICS"
        case .metricsAck: "METRICS_ACK"
        case .offer: "OFFER"
        case .credit: "CREDIT"
        case .chunk: "CHUNK"
        case .stored: "STORED"
        case .fetch: "FETCH"
        case .data: "DATA"
        case .fetchError: "FETCH_ERROR"
        case .done: "DONE"
        case .doneAck: "DONE_ACK"
        case .failed: "FAILED"
        case .cancel: "CANCEL"
        case .disconnect: "DISCONNECT"
        case .statusRequest: "STATUS_REQUEST"
        case .statusReply: "STATUS_REPLY"
        case .release: "RELEASE"
        case .log: "LOG"
        case .control: "CONTROL"
        case .controlReply: "CONTROL_REPLY"
        case .submit: "SUBMIT"
        case .submitReply: "SUBMIT_REPLY"
        case .upload: "UPLOAD"
        case .uploadAck: "UPLOAD_ACK"
        }
    }

    /// True for METRICS, CHUNK, DATA and UPLOAD, whose header (frame 2) is a fixed big-endian layout instead of JSON.
    public var hasBinaryHeader: Bool {
        switch self {
        case .metrics, .chunk, .data, .upload: true
        default: false
        }
    }

    /// True for CHUNK, DATA and UPLOAD, which carry file bytes in frame 3.
    public var hasPayload: Bool {
        switch self {
        case .chunk, .data, .upload: true
        default: false
        }
    }

    /// Frames of a message with this command, without a ROUTER's routing id: 3, or 4 with a payload.
    public var frameCount: Int { hasPayload ? 4 : 3 }
}
