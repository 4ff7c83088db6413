// StatusTable+Workers: one line per worker the ledger knows — its GPUs and slots, as its last HELLO reported them.
import Foundation
import WireProtocol

extension StatusTable {
    /// `worker NAME: GPUs 0,1, 4 slots (host HOST)` for each worker, by name; `GPU 3` for one, `no GPU` for none
    /// (a worker from before HELLO listed its GPUs shows its `gpu`).
    public static func workerLines(_ workers: [WorkerRecord]) -> [String] {
        workers.sorted { $0.name < $1.name }.map { worker in
            let gpus = worker.gpus ?? worker.gpu.map { [$0] } ?? []
            let devices =
                switch gpus.count {
                case 0: "no GPU"
                case 1: "GPU \(gpus[0])"
                default: "GPUs " + gpus.map(String.init).joined(separator: ",")
                }
            let slots = worker.slots == 1 ? "1 slot" : "\(worker.slots) slots"
            let host = worker.host.isEmpty ? "" : " (host \(worker.host))"
            return PrintableText.oneLine("worker \(worker.name): \(devices), \(slots)\(host)")
        }
    }
}
