// StatusTable+Workers: one line per worker — its GPUs and slots, as its last HELLO reported them (from the ledger or a running coordinator).
import Foundation
import WireProtocol

extension StatusTable {
    /// `worker NAME: GPUs 0,1, 4 slots (host HOST)` for each worker the ledger knows, by name; `GPU 3` for one,
    /// `no GPU` for none (a worker from before HELLO listed its GPUs shows its `gpu`).
    public static func workerLines(_ workers: [WorkerRecord]) -> [String] {
        workers.sorted { $0.name < $1.name }.map { worker in
            line(
                worker.name, gpus: worker.gpus ?? worker.gpu.map { [$0] } ?? [], slots: worker.slots, host: worker.host)
        }
    }

    /// The same lines for a running coordinator's connected workers (STATUS_REPLY `workers`), each with the cells
    /// it runs: `worker NAME: GPUs 0,1, 4 slots, 3 running (host HOST)`.
    public static func workerLines(_ workers: [StatusReply.Worker]) -> [String] {
        workers.sorted { $0.worker < $1.worker }.map { worker in
            line(
                worker.worker, gpus: worker.gpus ?? [], slots: worker.slots, host: worker.host,
                running: worker.cells)
        }
    }

    private static func line(_ name: String, gpus: [Int], slots: Int, host: String, running: Int? = nil) -> String {
        let devices =
            switch gpus.count {
            case 0: "no GPU"
            case 1: "GPU \(gpus[0])"
            default: "GPUs " + gpus.map(String.init).joined(separator: ",")
            }
        let slotText = slots == 1 ? "1 slot" : "\(slots) slots"
        let runningText = running.map { ", \($0) running" } ?? ""
        let hostText = host.isEmpty ? "" : " (host \(host))"
        return PrintableText.oneLine("worker \(name): \(devices), \(slotText)\(runningText)\(hostText)")
    }
}
