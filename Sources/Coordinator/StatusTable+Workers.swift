// StatusTable+Workers: one line per worker — its GPUs, slots and running cells, as its last HELLO reported them (from the ledger or a running coordinator).
import Foundation
import WireProtocol

extension StatusTable {
    /// The ledger's workers as STATUS_REPLY's `workers`, by name, each with the planned cells it runs; nil for none.
    /// A worker from before HELLO listed its GPUs shows its `gpu`.
    public static func workers(_ records: [WorkerRecord], cells: [CellRecord]) -> [StatusReply.Worker]? {
        guard !records.isEmpty else { return nil }
        return records.sorted { $0.name < $1.name }.map { record in
            StatusReply.Worker(
                worker: record.name, host: record.host, slots: record.slots,
                gpus: record.gpus ?? record.gpu.map { [$0] },
                cells: cells.filter { $0.state == .running && $0.worker == record.name }.count)
        }
    }

    /// `worker NAME: GPUs 0,1, 4 slots, 3 running (host HOST)` for each worker, by name; `GPU 3` for one, `no GPU`
    /// for none.
    public static func workerLines(_ workers: [StatusReply.Worker]) -> [String] {
        workers.sorted { $0.worker < $1.worker }.map { worker in
            let gpus = worker.gpus ?? []
            let devices =
                switch gpus.count {
                case 0: "no GPU"
                case 1: "GPU \(gpus[0])"
                default: "GPUs " + gpus.map(String.init).joined(separator: ",")
                }
            let slots = worker.slots == 1 ? "1 slot" : "\(worker.slots) slots"
            let host = worker.host.isEmpty ? "" : " (host \(worker.host))"
            let label = worker.label.map { " [\($0)]" } ?? ""
            return PrintableText.oneLine(
                "worker \(worker.worker)\(label): \(devices), \(slots), \(worker.cells) running\(host)")
        }
    }
}
