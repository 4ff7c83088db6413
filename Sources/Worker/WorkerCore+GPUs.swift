// WorkerCore+GPUs: which GPU a command job is pinned to (`--gpu`, or packing over `--gpus` × `--slots-per-gpu`), and the GPUs HELLO reports.

extension WorkerCore {
    /// The GPU a command job starting now is pinned to: `options.gpu` without `--gpus`; with it, the GPU of
    /// `options.gpus` that holds the fewest command jobs whose process runs, the lowest index among equals. The
    /// coordinator sends at most `options.slots` (= GPUs × slots per GPU) cells, so no GPU gets more than
    /// `options.slotsPerGPU` jobs.
    func gpuForNewCommand() -> Int? {
        guard !options.gpus.isEmpty else { return options.gpu }
        return Self.leastLoaded(options.gpus, pinned: jobs.values.compactMap(\.gpu))
    }

    /// The GPU of `gpus` that the fewest entries of `pinned` name, the lowest index among equals; nil for no GPUs.
    static func leastLoaded(_ gpus: [Int], pinned: [Int]) -> Int? {
        var load: [Int: Int] = [:]
        for gpu in pinned { load[gpu, default: 0] += 1 }
        return gpus.min { (load[$0] ?? 0, $0) < (load[$1] ?? 0, $1) }
    }

    /// HELLO's `gpus`: the worker's GPUs (`--gpus`, or `[--gpu]`), nil for none.
    var helloGPUs: [Int]? {
        if !options.gpus.isEmpty { return options.gpus }
        return options.gpu.map { [$0] }
    }
}
