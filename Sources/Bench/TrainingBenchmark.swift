// TrainingBenchmark: measures training and inference throughput of the exact Stage-2 model (what `ablate bench train` prints).
import AblateSupport
import Foundation
import NN
import RunSpec
import WorkerKit

/// Throughput of the research Stage-2 model (width 64, γ = 4 adapters on layer3 + layer4, batch 128) on random
/// 16×16 blocks with the research protocol's optimizer, loss and BatchNorm settings. Each figure is measured for
/// at least `seconds` of wall time after one warm-up step.
public struct TrainingBenchmark {
    public var seconds: Double = 10
    public var batchSize = 128
    public var threads = 1
    /// Rows whose prefix output is computed to measure the cache build.
    public var cacheRows = 8192

    public init() {}

    /// The measured figures (JSON keys in snake_case).
    public struct Result: Codable, Sendable {
        public var blasCore: String
        public var blasThreads: Int
        /// The own GEMM kernel path the model's products ran on.
        public var gemmKernel: String
        /// sgemm GFLOP/s at the trainer's shapes per path (`GEMMBenchmark`).
        public var sgemm: [GEMMBenchmark.Figure]
        public var batchSize: Int
        public var trainSamplesPerSecondCached: Double
        public var trainSamplesPerSecondUncached: Double
        public var inferenceSamplesPerSecond: Double
        public var cacheBuildRowsPerSecond: Double
        public var cacheBuildSecondsResearchScale: Double
        public var gflopsCachedTraining: Double
        public var peakResidentMebibytes: Double
        /// Minor page faults per cached training step after the warm-up step (buffers recycled by the
        /// allocator, not freshly mapped, give 0).
        public var pageFaultsPerCachedStep: Double
        /// Buffers per cached training step that the thread's `BufferPool` could not supply from the previous
        /// step's and had to allocate (0 once every buffer is reused).
        public var bufferAllocationsPerCachedStep: Double
        public var bufferAllocationsPerUncachedStep: Double
    }

    public func run(log: (String) -> Void = { _ in }) -> Result {
        BLAS.setThreadCount(threads)
        var config = TrainingConfig(stage: .stage2)
        config.width = 64
        let model = PartitionModel(config.model, seed: 1)
        let loss = Loss(
            kind: .cbFocal(gamma: 2, beta: 0.9999),
            classWeights: Loss.classBalancedWeights(counts: [23942, 71378, 57280], beta: 0.9999))
        let optimizer = AdamW(
            store: model.store,
            groups: [
                AdamW.Group(name: "adapters", prefix: "adapters.", learningRate: 1e-3),
                AdamW.Group(name: "head", prefix: "head.", learningRate: 1e-4),
            ])
        var random = PCG64(seed: 7)
        let blocks = Tensor(
            shape: [batchSize, 1, 16, 16], data: (0..<(batchSize * 256)).map { _ in Float(random.bounded(1024)) / 1023 }
        )
        let labels = (0..<batchSize).map { _ in random.bounded(3) }
        var cache = PartitionModel.Cache()

        // Cache build: the prefix's output for `cacheRows` rows, batches of 256 spread over the threads as
        // `PrefixCache` builds it.
        let buildRows = Tensor(
            shape: [256, 1, 16, 16], data: (0..<(256 * 256)).map { _ in Float(random.bounded(1024)) / 1023 })
        let shared = ParallelBatches.Shared(model)
        let buildBatches = max(1, cacheRows / 256)
        let buildStart = Date()
        _ = ParallelBatches.map(count: buildBatches, threads: threads) { _ in
            var batchCache = PartitionModel.Cache()
            return shared.value.forwardPrefix(buildRows, cache: &batchCache)?.count ?? 0
        }
        let buildRate = Double(buildBatches * 256) / Date().timeIntervalSince(buildStart)
        log(String(format: "cache build: %.0f rows/s", buildRate))
        guard let features = model.forwardPrefix(blocks, cache: &cache) else {
            preconditionFailure("the Stage-2 model has a frozen prefix")
        }

        let trainMode = PartitionModel.Mode(backboneBN: .eval, adapterBN: .train, dropout: true)
        let flopsBefore = BLAS.flopCounter.load(ordering: .relaxed)
        let cached = measure {
            model.store.zeroGradients()
            guard var logits = model.forward(prefixOutput: features, mode: trainMode, random: &random, cache: &cache)
            else { return }
            var gradient = loss.evaluate(logits: logits, labels: labels).gradient
            model.backward(gradient, cache: cache)
            optimizer.update(model.store)
            BufferPool.current.recycle(&gradient)
            BufferPool.current.recycle(&logits)
        }
        let cachedFlops = Double(BLAS.flopCounter.load(ordering: .relaxed) - flopsBefore) / cached.seconds / 1e9
        log(String(format: "training with the cache: %.0f samples/s", cached.rate))

        let uncachedMode = PartitionModel.Mode(backboneBN: .train, adapterBN: .train, dropout: true)
        let uncached = measure {
            model.store.zeroGradients()
            var logits = model.forward(blocks, mode: uncachedMode, random: &random, cache: &cache)
            var gradient = loss.evaluate(logits: logits, labels: labels).gradient
            model.backward(gradient, cache: cache)
            optimizer.update(model.store)
            BufferPool.current.recycle(&gradient)
            BufferPool.current.recycle(&logits)
        }
        log(String(format: "training without the cache (backbone_bn: train): %.0f samples/s", uncached.rate))

        // Inference as validation and `ablate predict` run it: batches spread over the threads.
        let inferenceBatches = 4 * threads
        let inference = measure(rowsPerStep: inferenceBatches * batchSize) {
            _ = ParallelBatches.map(count: inferenceBatches, threads: threads) { _ in
                var batchCache = PartitionModel.Cache()
                var unused = PCG64(seed: 0)
                return shared.value.forward(blocks, mode: .evaluation, random: &unused, cache: &batchCache).count
            }
        }
        log(String(format: "inference: %.0f samples/s", inference.rate))

        var gemm = GEMMBenchmark()
        gemm.threads = threads
        gemm.seconds = min(1, max(0.1, seconds / 20))
        let sgemm = gemm.run {
            log(String(format: "sgemm %@ on %@ (%d thread(s)): %.1f GFLOP/s", $0.shape, $0.path, $0.threads, $0.gflops))
        }

        return Result(
            blasCore: BLAS.coreName, blasThreads: BLAS.threadCount, gemmKernel: GEMMKernel.selected.rawValue,
            sgemm: sgemm, batchSize: batchSize,
            trainSamplesPerSecondCached: cached.rate, trainSamplesPerSecondUncached: uncached.rate,
            inferenceSamplesPerSecond: inference.rate, cacheBuildRowsPerSecond: buildRate,
            cacheBuildSecondsResearchScale: Double(152_600 + 38_256) / buildRate,
            gflopsCachedTraining: cachedFlops, peakResidentMebibytes: Self.peakResidentMiB(),
            pageFaultsPerCachedStep: cached.faultsPerStep, bufferAllocationsPerCachedStep: cached.allocationsPerStep,
            bufferAllocationsPerUncachedStep: uncached.allocationsPerStep)
    }

    /// Runs `step` (a batch, or `rowsPerStep` rows) once to warm up, then repeatedly for at least `seconds`.
    /// Also counts the process's minor page faults per step (a step whose buffers come back from the allocator
    /// without touching fresh pages has none) and the buffers this thread's pool had to allocate per step.
    private func measure(
        rowsPerStep: Int? = nil, _ step: () -> Void
    ) -> (rate: Double, seconds: Double, faultsPerStep: Double, allocationsPerStep: Double) {
        step()
        let faultsBefore = ProcessUsage.now().minorPageFaults
        let missesBefore = BufferPool.current.misses
        let start = Date()
        var samples = 0
        var steps = 0
        repeat {
            step()
            samples += rowsPerStep ?? batchSize
            steps += 1
        } while Date().timeIntervalSince(start) < seconds
        let elapsed = Date().timeIntervalSince(start)
        return (
            Double(samples) / elapsed, elapsed,
            Double(ProcessUsage.now().minorPageFaults - faultsBefore) / Double(steps),
            Double(BufferPool.current.misses - missesBefore) / Double(steps)
        )
    }

    /// VmHWM from /proc/self/status, in MiB (0 where unavailable).
    static func peakResidentMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}
