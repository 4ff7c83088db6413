// StatusJSON: `ablate status --json` — the sweep, its line and one object per cell, with typed fields for scripts.
import Foundation
import WireProtocol

/// The JSON form of a status (docs/state-directory.md#status-json): every key always present, `null` when unknown.
public enum StatusJSON {
    struct Document: Encodable {
        var sweep: String
        var paused: String?
        var summary: Summary?
        var notes: [String]
        var cells: [Cell]
        var workers: [Worker]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(sweep, forKey: .sweep)
            try container.encode(paused, forKey: .paused)
            try container.encode(summary, forKey: .summary)
            try container.encode(notes, forKey: .notes)
            try container.encode(cells, forKey: .cells)
            try container.encode(workers, forKey: .workers)
        }

        enum CodingKeys: String, CodingKey { case sweep, paused, summary, notes, cells, workers }
    }

    /// A worker: its name, host, slots, GPUs (`null` for none) and the cells it runs.
    struct Worker: Encodable {
        var worker: StatusReply.Worker

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(worker.worker, forKey: .worker)
            try container.encode(worker.host, forKey: .host)
            try container.encode(worker.slots, forKey: .slots)
            try container.encode(worker.gpus, forKey: .gpus)
            try container.encode(worker.cells, forKey: .cells)
        }

        enum CodingKeys: String, CodingKey { case worker, host, slots, gpus, cells }
    }

    struct Summary: Encodable {
        var cells, done, running, failed: Int
        var etaSeconds: Double?
        var workerSeconds: Double

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(cells, forKey: .cells)
            try container.encode(done, forKey: .done)
            try container.encode(running, forKey: .running)
            try container.encode(failed, forKey: .failed)
            try container.encode(finite(etaSeconds), forKey: .etaSeconds)
            try container.encode(finite(workerSeconds), forKey: .workerSeconds)
        }

        enum CodingKeys: String, CodingKey {
            case cells, done, running, failed
            case etaSeconds = "eta_seconds"
            case workerSeconds = "worker_seconds"
        }
    }

    struct Cell: Encodable {
        var row: StatusReply.Row

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(row.cell, forKey: .cell)
            try container.encode(row.variant, forKey: .variant)
            try container.encode(row.seed, forKey: .seed)
            try container.encode(row.stage, forKey: .stage)
            try container.encode(row.state, forKey: .state)
            try container.encode(row.worker, forKey: .worker)
            try container.encode(row.attempt, forKey: .attempt)
            try container.encode(row.epoch, forKey: .epoch)
            try container.encode(row.epochs, forKey: .epochs)
            try container.encode(finite(row.elapsedSeconds), forKey: .elapsedSeconds)
            try container.encode(finite(row.epochSeconds), forKey: .epochSeconds)
            try container.encode(finite(row.samplesPerSecond), forKey: .samplesPerSecond)
            try container.encode(finite(row.trainLoss), forKey: .trainLoss)
            try container.encode(finite(row.lastValMacroF1), forKey: .lastValMacroF1)
            try container.encode(finite(row.bestValMacroF1), forKey: .bestValMacroF1)
            try container.encode(finite(row.etaSeconds), forKey: .etaSeconds)
            try container.encode(row.reason, forKey: .reason)
        }

        enum CodingKeys: String, CodingKey {
            case cell, variant, seed, stage, state, worker, attempt, epoch, epochs, reason
            case elapsedSeconds = "elapsed_seconds"
            case epochSeconds = "epoch_seconds"
            case samplesPerSecond = "samples_per_second"
            case trainLoss = "train_loss"
            case lastValMacroF1 = "last_val_macro_f1"
            case bestValMacroF1 = "best_val_macro_f1"
            case etaSeconds = "eta_seconds"
        }
    }

    /// A finite number, else nil (JSON has no NaN or infinity; a peer's odd value becomes `null`).
    static func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }

    /// The document for `reply` with the lines shown under the table.
    public static func text(_ reply: StatusReply, notes: [String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let summary = reply.summary.map {
            Summary(
                cells: $0.cells, done: $0.done, running: $0.running, failed: $0.failed, etaSeconds: $0.etaSeconds,
                workerSeconds: $0.workerSeconds)
        }
        let document = Document(
            sweep: reply.sweep, paused: reply.paused, summary: summary, notes: notes, cells: reply.rows.map(Cell.init),
            workers: (reply.workers ?? []).map(Worker.init))
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}
