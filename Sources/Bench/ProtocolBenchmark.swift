// ProtocolBenchmark: checkpoint streaming throughput and metrics-to-ledger latency over a real loopback socket pair.
import AblateSupport
import CoordinatorKit
import Crypto
import Foundation
import Synchronization
import TransferKit
import WireProtocol
import WorkerKit

/// Measures the coordinator's receiving path as the protocol runs it: a worker-side thread with a DEALER offers a
/// file and streams it by credit (`JobOutbox`, 256 KiB chunks lent to libzmq from the file's mapping, window 4); a coordinator-side thread with a ROUTER
/// writes it through `TransferReceiver` (append, SHA-256, fsync, rename) and answers STORED. Then METRICS reports
/// go one at a time into a `Ledger` (WAL, synchronous=FULL) and the time until each METRICS_ACK is taken — an upper
/// bound of "metrics reach the database".
public struct ProtocolBenchmark {
    public var megabytes = 512
    public var metricsReports = 200
    public var endpoint = "tcp://127.0.0.1:*"
    public var settings = CoordinatorSettings()

    public init() {}

    public struct Result: Sendable, Codable {
        public var bytes: Int64
        public var streamSeconds: Double
        public var gigabytesPerSecond: Double
        /// Of `streamSeconds`, the time the coordinator spent on the last chunk: its append, the file's fsync
        /// and the rename into the store (what the disk adds to the protocol).
        public var finalSyncSeconds: Double
        /// CPU time (user + system) of the whole process, both ends and ZeroMQ's I/O threads, while streaming.
        public var streamCPUSeconds: Double
        public var metricsMedianMs: Double
        public var metricsP99Ms: Double
        public var metricsMaxMs: Double
    }

    private final class Box: Sendable {
        let endpoint = Mutex<String?>(nil)
        let failure = Mutex<String?>(nil)
        let finalSync = Mutex<Double>(0)
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
    }

    public func run(directory: String) throws -> Result {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let source = "\(directory)/payload.bin"
        var generator = PCG64(seed: 20_261_122)
        let size = megabytes << 20
        var hasher = SHA256()
        guard FileManager.default.createFile(atPath: source, contents: nil),
            let writer = FileHandle(forWritingAtPath: source)
        else {
            throw ArtifactStoreError("\(source): cannot create")
        }
        var words = [UInt64](repeating: 0, count: 1 << 17)
        for _ in 0..<(size >> 20) {
            for index in words.indices { words[index] = generator.next() }
            let block = words.withUnsafeBytes { Array($0) }
            hasher.update(data: block)
            try writer.write(contentsOf: block)
        }
        // Flushed before the clock starts, so the payload's own writeback does not compete with the transfer.
        try writer.synchronize()
        try writer.close()
        let ref = ArtifactRef(name: "payload.bin", sha256: Hex.encode(hasher.finalize()), size: Int64(size))

        let box = Box()
        let state = "\(directory)/state"
        let settings = self.settings
        let reports = metricsReports
        let bindTo = endpoint
        let coordinator = Thread {
            do { try Self.serve(bindTo, state: state, settings: settings, box: box) } catch {
                box.failure.withLock { $0 = "coordinator side: \(error)" }
                box.ready.signal()
            }
            box.finished.signal()
        }
        coordinator.start()
        box.ready.wait()
        if let failure = box.failure.withLock({ $0 }) { throw ArtifactStoreError(failure) }
        guard let bound = box.endpoint.withLock({ $0 }) else {
            throw ArtifactStoreError("the coordinator side did not bind")
        }
        var result = try Self.drive(
            bound, file: source, ref: ref, chunkBytes: settings.chunkBytes, reports: reports, box: box)
        box.finished.wait()
        if let failure = box.failure.withLock({ $0 }) { throw ArtifactStoreError(failure) }
        result.finalSyncSeconds = box.finalSync.withLock { $0 }
        return result
    }

    /// The coordinator side: ROUTER, transfer receiver, ledger; stops after the metrics reports.
    private static func serve(_ endpoint: String, state: String, settings: CoordinatorSettings, box: Box) throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .router)
        defer { socket.close() }
        let limits = FrameLimits(maxChunkBytes: settings.chunkBytes)
        try socket.configureCoordinatorRouter(maxFrameBytes: limits.socketMaxFrameBytes)
        try socket.bind(endpoint)
        box.endpoint.withLock { $0 = (try? socket.lastEndpoint) ?? endpoint }
        box.ready.signal()
        let store = try ArtifactStore(stateDirectory: state)
        let receiver = try TransferReceiver(stateDirectory: state, store: store, window: settings.window)
        let ledger = try Ledger(directory: state)
        let cell = String(repeating: "c", count: 64)
        _ = try ledger.addCells([
            CellRecord(id: cell, variant: "bench", seed: 0, stage: "2", configJSON: "{}", position: 0, epochs: 1)
        ])
        while true {
            _ = try ZMQPoller(sockets: [socket]).poll(timeoutMs: 1000)
            while let frames = try socket.receiveFrames(), let peer = frames.first?.array {
                let message = try MessageCodec.decode(Array(frames.dropFirst()), limits: limits)
                var replies: [Message] = []
                switch message {
                case .offer(let offer):
                    if case .send(let reply) = try receiver.accept(offer) { replies.append(reply) }
                case .chunk(let chunk):
                    let started = Date()
                    switch try receiver.receive(chunk) {
                    case .send(let reply): replies.append(reply)
                    case .stored(_, let claims):
                        box.finalSync.withLock { $0 = Date().timeIntervalSince(started) }
                        if let sha = claims.first?.offer.file.sha256 {
                            replies.append(.stored(Stored(sha256: sha, status: .ok)))
                        }
                    case .mismatch(let claim):
                        replies.append(.stored(Stored(sha256: claim.offer.file.sha256, status: .hashMismatch)))
                    case .none: break
                    }
                case .metrics(let report):
                    _ = try ledger.appendMetrics(
                        MetricsRecord(
                            cell: cell, attempt: report.attempt, seq: report.seq, epoch: report.epoch,
                            valMacroF1: report.valMacroF1, record: report.record,
                            receivedAt: Date().timeIntervalSince1970))
                    replies.append(.metricsAck(MetricsAck(cell: report.cell, attempt: report.attempt, seq: report.seq)))
                case .disconnect:
                    return
                default:
                    break
                }
                for reply in replies { try socket.send(to: peer, frames: MessageCodec.encode(reply), dontWait: false) }
            }
        }
    }

    /// The worker side: streams the file by credit, then sends metrics one at a time and times each acknowledgement.
    private static func drive(
        _ endpoint: String, file: String, ref: ArtifactRef, chunkBytes: Int, reports: Int, box: Box
    ) throws -> Result {
        /// Waits for a reply; gives up with the coordinator side's error, or after 10 s of silence.
        func awaitReply(_ socket: ZMQSocket, for what: String) throws {
            let silent = Date()
            while try ZMQPoller(sockets: [socket]).poll(timeoutMs: 200).readableSockets.isEmpty {
                if let failure = box.failure.withLock({ $0 }) { throw ArtifactStoreError(failure) }
                guard Date().timeIntervalSince(silent) < 10 else {
                    throw ArtifactStoreError("no \(what) from the coordinator side for 10 s")
                }
            }
        }
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .dealer)
        defer { socket.close() }
        try socket.configureWorkerDealer()
        try socket.connect(endpoint)
        let cell = String(repeating: "c", count: 64)
        var outbox = JobOutbox(cell: cell, attempt: 1, epoch: 0)
        let snapshot = OutgoingFile(ref: ref, epoch: 1, path: file)
        let report = MetricsReport(
            cell: cell, attempt: 1, seq: 1, epoch: 1, valMacroF1: 0.5, valLoss: 1, trainLoss: 1, seconds: 1,
            record: "{}")
        let start = Date()
        let cpuAtStart = ProcessUsage.now().cpuSeconds
        for message in outbox.addEpoch(report, files: [snapshot], connected: true) where message.command == .offer {
            try socket.send(MessageCodec.encode(message), dontWait: false)
        }
        let chunks = ChunkSource()
        var stored = false
        while !stored {
            try awaitReply(socket, for: "CREDIT or STORED")
            while let frames = try socket.receive() {
                switch try MessageCodec.decode(frames) {
                case .credit(let credit):
                    for order in outbox.credit(credit, chunkBytes: chunkBytes) {
                        try socket.sendChunk(order, from: chunks, dontWait: false)
                    }
                case .stored(let result):
                    guard result.status == .ok else {
                        throw ArtifactStoreError("the streamed file was refused: \(result.status.rawValue)")
                    }
                    stored = true
                default:
                    break
                }
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let cpuSeconds = ProcessUsage.now().cpuSeconds - cpuAtStart
        var latencies: [Double] = []
        for seq in 1...max(1, reports) {
            var next = report
            next.seq = seq
            next.epoch = seq
            let sent = Date()
            try socket.send(MessageCodec.encode(.metrics(next)), dontWait: false)
            var acknowledged = false
            while !acknowledged {
                try awaitReply(socket, for: "METRICS_ACK")
                while let frames = try socket.receive() {
                    if case .metricsAck(let ack) = try MessageCodec.decode(frames), ack.seq == seq {
                        acknowledged = true
                    }
                }
            }
            latencies.append(Date().timeIntervalSince(sent) * 1000)
        }
        try socket.send(MessageCodec.encode(.disconnect(Disconnect(reason: "benchmark done"))), dontWait: false)
        latencies.sort()
        let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
        return Result(
            bytes: ref.size, streamSeconds: seconds, gigabytesPerSecond: Double(ref.size) / seconds / 1e9,
            finalSyncSeconds: 0,
            streamCPUSeconds: cpuSeconds, metricsMedianMs: latencies[latencies.count / 2], metricsP99Ms: p99,
            metricsMaxMs: latencies.last ?? 0)
    }
}
