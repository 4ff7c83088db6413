// JobOutbox: what one job still owes the coordinator — unacknowledged metrics, files to stream, its outcome.
import Foundation
import TransferKit
import WireProtocol

/// A file snapshot waiting to be stored by the coordinator.
public struct OutgoingFile: Sendable, Equatable {
    public var ref: ArtifactRef
    public var epoch: Int
    /// The snapshot's path (a hard link in the worker's outbox, so later epochs cannot change its bytes).
    public var path: String
    public var stored = false
    /// Waiting for the first CREDIT after an OFFER (it sets where sending starts).
    var awaitingCredit = false
    var nextOffset: Int64 = 0
    var windowEnd: Int64 = 0
    var mismatches = 0

    public init(ref: ArtifactRef, epoch: Int, path: String) {
        self.ref = ref
        self.epoch = epoch
        self.path = path
    }
}

/// The outbound side of one job (docs/protocol.md, items 8–11), pure: it returns the messages to send and the
/// chunks to read. Everything unacknowledged is sent again when a new session starts.
public struct JobOutbox: Sendable {
    public enum Outcome: Sendable, Equatable {
        case done(summary: String)
        case failed(reason: String, deterministic: Bool)
    }

    public let cell: String
    public let attempt: Int
    public private(set) var epoch: Int
    public private(set) var metrics: [MetricsReport] = []
    public private(set) var files: [String: OutgoingFile] = [:]
    public private(set) var outcome: Outcome?
    private var outcomeSent = false
    /// Retries of a file whose bytes did not match its hash before the job gives up.
    public static let maxMismatches = 3

    public init(cell: String, attempt: Int, epoch: Int) {
        self.cell = cell
        self.attempt = attempt
        self.epoch = epoch
    }

    /// Where the run is inside its current epoch (or the cache build), until the epoch's report replaces it.
    public private(set) var within: TrainingProgress?

    public var progress: JobProgress {
        JobProgress(
            cell: cell, attempt: attempt, epoch: epoch, phase: within?.phase, rowsDone: within?.rowsDone,
            rowsTotal: within?.rowsTotal, rowsPerSecond: within?.rowsPerSecond)
    }

    /// The run's latest progress inside an epoch (sent with the next heartbeat).
    public mutating func setWithin(_ progress: TrainingProgress) { within = progress }

    /// An epoch finished: its metrics and the files it wrote (a newer version of a name replaces the older one).
    public mutating func addEpoch(_ report: MetricsReport, files newFiles: [OutgoingFile], connected: Bool) -> [Message]
    {
        epoch = max(epoch, report.epoch)
        within = nil
        metrics.append(report)
        var messages: [Message] = connected ? [.metrics(report)] : []
        for var file in newFiles {
            file.awaitingCredit = connected
            files[file.ref.name] = file
            if connected { messages.append(offer(file)) }
        }
        return messages
    }

    /// Files completed outside an epoch report (a command's checkpoints): streamed like an epoch's files.
    public mutating func addFiles(_ newFiles: [OutgoingFile], connected: Bool) -> [Message] {
        var messages: [Message] = []
        for var file in newFiles {
            file.awaitingCredit = connected
            files[file.ref.name] = file
            if connected { messages.append(offer(file)) }
        }
        return messages
    }

    /// The run ended; the outcome is reported once every file is stored.
    public mutating func finish(_ outcome: Outcome, connected: Bool) -> [Message] {
        self.outcome = outcome
        return connected ? outcomeIfReady() : []
    }

    /// METRICS_ACK: everything up to `seq` is stored.
    public mutating func acknowledge(seq: Int) {
        metrics.removeAll { $0.seq <= seq }
    }

    /// A CREDIT for one of this job's files: the chunks now allowed.
    public mutating func credit(_ credit: Credit, chunkBytes: Int) -> [ChunkOrder] {
        guard let name = files.first(where: { $0.value.ref.sha256 == credit.sha256 && !$0.value.stored })?.key,
            var file = files[name]
        else { return [] }
        if file.awaitingCredit {
            file.nextOffset = credit.offset
            file.awaitingCredit = false
        }
        file.windowEnd = max(file.windowEnd, credit.offset + Int64(credit.chunks) * Int64(chunkBytes))
        var orders: [ChunkOrder] = []
        let limit = min(file.windowEnd, file.ref.size)
        while file.nextOffset < limit {
            let length = Int(min(Int64(chunkBytes), file.ref.size - file.nextOffset))
            orders.append(
                ChunkOrder(
                    sha256: file.ref.sha256, path: file.path, offset: file.nextOffset, length: length,
                    totalSize: file.ref.size))
            file.nextOffset += Int64(length)
        }
        files[name] = file
        return orders
    }

    /// STORED for one of this job's files. Returns the messages to send and whether the job must be abandoned
    /// (the attempt is stale, or a file kept failing its hash check).
    public mutating func stored(_ stored: Stored, connected: Bool) -> (messages: [Message], abandon: String?) {
        guard let name = files.first(where: { $0.value.ref.sha256 == stored.sha256 })?.key, var file = files[name]
        else { return ([], nil) }
        switch stored.status {
        case .ok:
            file.stored = true
            files[name] = file
            return (connected ? outcomeIfReady() : [], nil)
        case .stale:
            return ([], "the coordinator says attempt \(attempt) is no longer current")
        case .hashMismatch:
            file.mismatches += 1
            guard file.mismatches <= Self.maxMismatches else {
                return ([], "\(file.ref.name) failed its hash check \(file.mismatches) times")
            }
            file.awaitingCredit = connected
            file.nextOffset = 0
            file.windowEnd = 0
            files[name] = file
            return (connected ? [offer(file)] : [], nil)
        }
    }

    /// DONE_ACK{missing_files}: offer every file again.
    public mutating func reofferAll(connected: Bool) -> [Message] {
        outcomeSent = false
        for name in files.keys { files[name]?.stored = false }
        return connected ? resendAll() : []
    }

    /// A new session: metrics not acknowledged, files not stored, and the outcome if it was never acknowledged.
    public mutating func resendAll() -> [Message] {
        var messages: [Message] = metrics.map { .metrics($0) }
        for name in files.keys.sorted() where files[name]?.stored == false {
            guard var file = files[name] else { continue }
            file.awaitingCredit = true
            file.windowEnd = 0
            files[name] = file
            messages.append(offer(file))
        }
        outcomeSent = false
        return messages + outcomeIfReady()
    }

    private func offer(_ file: OutgoingFile) -> Message {
        .offer(Offer(cell: cell, attempt: attempt, epoch: file.epoch, file: file.ref))
    }

    private mutating func outcomeIfReady() -> [Message] {
        guard let outcome, !outcomeSent, files.values.allSatisfy(\.stored) else { return [] }
        outcomeSent = true
        switch outcome {
        case .done(let summary):
            let refs = files.values.map(\.ref).sorted { $0.name < $1.name }
            return [.done(Done(cell: cell, attempt: attempt, summary: summary, files: refs))]
        case .failed(let reason, let deterministic):
            return [.failed(Failed(cell: cell, attempt: attempt, reason: reason, deterministic: deterministic))]
        }
    }
}
