// SubmitClient: the client side of SUBMIT and UPLOAD over one DEALER — submit, upload what is missing, submit again.
import AblateSupport
import Foundation
import TransferKit
import WireProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// One connection to a coordinator for `ablate submit` (and `ablate report NAME --connect`): SUBMIT and its SUBMIT_REPLY, and uploads of whole files as UPLOADs
/// answered by UPLOAD_ACKs. An upload first sends an empty UPLOAD at offset 0, whose answer says where the lab's part
/// file ends (0 for a new upload, more after an interrupted one); it then keeps up to `window` pieces in flight and
/// goes on from each answer's `next_offset`, so a client that was killed resumes where the lab's bytes end.
final class SubmitClient {
    /// Pieces in flight per upload.
    static let window = 4

    let endpoint: String
    let timeoutMs: Int
    private let context: ZMQContext
    private let socket: ZMQSocket

    init(endpoint: String, timeoutMs: Int, curve: CurveClientKeys?) throws {
        self.endpoint = endpoint
        self.timeoutMs = timeoutMs
        context = try ZMQContext()
        socket = try ZMQSocket(context, type: .dealer)
        try socket.configureWorkerDealer()
        if let curve { try socket.configureCurveClient(curve) }
        try socket.connect(endpoint)
    }

    deinit { socket.close() }

    /// Sends `request` and returns the SUBMIT_REPLY with its `request_id`.
    func submit(_ request: SubmitRequest) throws -> SubmitReply {
        try send(.submit(request))
        return try firstReply { message in
            guard case .submitReply(let reply) = message, reply.requestId == request.requestId else { return nil }
            return reply
        }
    }

    /// Uploads the file at `path` as `sha256` of `size` bytes, in pieces of `chunkBytes`.
    /// - Parameter progress: called with the bytes the lab holds after each answer.
    /// - Returns: the payload bytes sent.
    func upload(
        path: String, sha256: String, size: Int64, chunkBytes: Int, progress: (Int64) -> Void
    ) throws -> Int64 {
        let handle = open(path, O_RDONLY | O_CLOEXEC)
        guard handle >= 0 else { throw RunFailure(message: "\(path): cannot be read") }
        defer { close(handle) }
        try send(.upload(Upload(sha256: sha256, offset: 0, totalSize: size, payload: [UInt8]())))
        var ack = try nextAck(sha256)
        var position = ack.nextOffset
        var inFlight = 0
        var sent: Int64 = 0
        while true {
            switch ack.status {
            case .complete:
                progress(size)
                return sent
            case .hashMismatch:
                throw RunFailure(
                    message: "\(path): the lab received bytes that do not hash to \(sha256); did the file change?")
            case .refused:
                throw RunFailure(
                    message: "\(path): upload refused: \(PrintableText.oneLine(ack.reason ?? "no reason given"))")
            case .more:
                progress(ack.nextOffset)
                // Every piece sent is answered and the lab still waits before `position`: go on from there.
                if inFlight == 0, ack.nextOffset != position { position = ack.nextOffset }
            }
            while inFlight < Self.window, position < size {
                let length = Int(min(Int64(chunkBytes), size - position))
                var piece = [UInt8](repeating: 0, count: length)
                let got = piece.withUnsafeMutableBytes { pread(handle, $0.baseAddress, length, off_t(position)) }
                guard got == length else { throw RunFailure(message: "\(path): cannot be read (it changed?)") }
                try send(.upload(Upload(sha256: sha256, offset: position, totalSize: size, payload: piece)))
                position += Int64(length)
                sent += Int64(length)
                inFlight += 1
            }
            ack = try nextAck(sha256)
            inFlight = max(0, inFlight - 1)
        }
    }

    /// Sends a CONTROL and returns the CONTROL_REPLY with its `request_id` (`ablate report NAME --connect`).
    func control(_ request: ControlRequest) throws -> ControlReply {
        try send(.control(request))
        return try firstReply { message in
            guard case .controlReply(let reply) = message, reply.requestId == request.requestId else { return nil }
            return reply
        }
    }

    /// The bytes of a file the coordinator listed (`report`), fetched in order with FETCH, one piece of at most
    /// `chunkBytes` at a time, and checked against its SHA-256.
    func download(_ file: ControlReportFile, chunkBytes: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(min(file.size, FieldLimits.maxReportBytes)))
        while Int64(bytes.count) < file.size {
            let offset = Int64(bytes.count)
            try send(.fetch(Fetch(sha256: file.sha256, offset: offset, length: chunkBytes)))
            let piece: Result<[UInt8], RunFailure> = try firstReply { message in
                switch message {
                case .data(let chunk) where chunk.sha256 == file.sha256 && chunk.offset == offset:
                    return .success(chunk.payload.array)
                case .fetchError(let error) where error.sha256 == file.sha256:
                    return .failure(RunFailure(message: "\(file.name): \(PrintableText.oneLine(error.reason))"))
                case .disconnect:
                    return .failure(
                        RunFailure(message: "\(file.name): the coordinator no longer holds this copy; ask again"))
                default: return nil
                }
            }
            let payload = try piece.get()
            guard !payload.isEmpty, Int64(bytes.count + payload.count) <= file.size else {
                throw RunFailure(
                    message: "\(file.name): the coordinator sent \(payload.count) bytes at offset \(offset)")
            }
            bytes += payload
        }
        guard SHA256Hex.of(bytes) == file.sha256 else {
            throw RunFailure(message: "\(file.name): the bytes received do not match its SHA-256; ask again")
        }
        return bytes
    }

    private func nextAck(_ sha256: String) throws -> UploadAck {
        try firstReply { message in
            guard case .uploadAck(let ack) = message, ack.sha256 == sha256 else { return nil }
            return ack
        }
    }

    private func send(_ message: Message) throws {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        let frames = MessageCodec.encode(message)
        while try !socket.send(frames) {
            guard Date() < deadline else { throw noAnswer() }
            _ = try ZMQPoller(sockets: [socket]).poll(timeoutMs: 10)
        }
    }

    /// The first decoded message `match` takes, within the timeout; others are skipped.
    private func firstReply<Reply>(_ match: (Message) -> Reply?) throws -> Reply {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while Date() < deadline {
            _ = try ZMQPoller(sockets: [socket]).poll(timeoutMs: 100)
            while let frames = try socket.receive() {
                guard let message = try? MessageCodec.decode(frames) else { continue }
                if let reply = match(message) { return reply }
            }
        }
        throw noAnswer()
    }

    private func noAnswer() -> RunFailure {
        RunFailure(
            message:
                "\(endpoint): no answer from a lab within \(max(1, timeoutMs / 1000)) s; is a coordinator serving there, and may this key submit?"
        )
    }
}
