// LedgerFixtures: sample cells, attempts and files shared by the ledger tests.
import CoordinatorKit
import Foundation

enum LedgerFixtures {
    /// A 64-hex-digit id made of `digit` repeated.
    static func id(_ digit: Character) -> String { String(repeating: digit, count: 64) }

    static func cell(_ digit: Character, position: Int, dependsOn: String? = nil) -> CellRecord {
        CellRecord(
            id: id(digit), variant: "variant-\(digit)", seed: UInt64.max - UInt64(position), stage: "stage1",
            configJSON: #"{"epochs":3,"lr":0.001}"#, dependsOn: dependsOn, position: position, epochs: 3,
            updatedAt: 1_700_000_000.25)
    }

    static func attempt(_ cell: CellRecord, _ number: Int, worker: String = "host-gpu0") -> AttemptRecord {
        AttemptRecord(
            cell: cell.id, attempt: number, worker: worker, session: "session-\(number)", startedAt: 1_700_000_100.5)
    }

    /// `cell` assigned to `worker` as attempt `number`.
    static func running(_ cell: CellRecord, attempt number: Int, worker: String = "host-gpu0") -> CellRecord {
        var next = cell
        next.state = .running
        next.attempt = number
        next.worker = worker
        next.updatedAt += 1
        return next
    }

    static func metrics(_ cell: CellRecord, attempt: Int, seq: Int, f1: Double = 0.5) -> MetricsRecord {
        MetricsRecord(
            cell: cell.id, attempt: attempt, seq: seq, epoch: seq, valMacroF1: f1,
            record: #"{"epoch":\#(seq),"val_macro_f1":\#(f1)}"#, receivedAt: 1_700_000_200.75 + Double(seq))
    }

    static func artifact(_ digit: Character, size: Int64 = 1234) -> ArtifactRecord {
        ArtifactRecord(sha256: id(digit), size: size, path: "artifacts/\(id(digit))", addedAt: 1_700_000_300)
    }

    static func worker(_ name: String, seen: Double, incarnation: String = "a1b2") -> WorkerRecord {
        WorkerRecord(
            name: name, incarnation: incarnation, host: "host", threads: 8, gpu: nil, slots: 2, codeVersion: "0.1.0",
            blasCore: "Haswell", firstSeen: seen, lastSeen: seen)
    }
}
