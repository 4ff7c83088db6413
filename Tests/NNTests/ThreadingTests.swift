// ThreadingTests: split GEMMs, the compute pool and parallel batches give the single-thread results bit for bit.
import AblateSupport
import NN
import RunSpec
import Testing

/// Ablate's threading must not change results: a run is a function of its config, data and seed, whatever
/// `--threads` is. These tests compare 1 and 2 threads bitwise, from one GEMM up to a whole training step. The
/// thread count is process-wide and other suites' trainers set it too; a change in the middle of a comparison
/// only makes it weaker (both sides must still agree), never wrong.
@Suite("Threading", .serialized)
struct ThreadingTests {
    static func random(_ count: Int, _ rng: inout PCG64) -> [Float] {
        (0..<count).map { _ in Float(rng.bounded(2001)) / 1000 - 1 }
    }

    /// Indices where two arrays differ bit for bit.
    static func differing(_ a: [Float], _ b: [Float]) -> [Int] {
        a.indices.filter { a[$0].bitPattern != b[$0].bitPattern }
    }

    /// Every part runs exactly once, the caller's included, also when called over and over.
    @Test func poolRunsEveryPartOnce() {
        let pool = ComputePool()
        pool.setWidth(3)
        for round in 0..<200 {
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 3)
            counts.initialize(repeating: 0)
            pool.run { part in counts[part] += 1 }
            #expect(Array(counts) == [1, 1, 1], "round \(round): \(Array(counts))")
            counts.deallocate()
        }
    }

    /// The GEMM shapes of a Stage-2 training step (batch 128; forward, input-gradient and weight-gradient
    /// products, with and without transposes) at width 2 equal width 1, bit for bit.
    @Test func splitGEMMsEqualUnsplit() {
        var rng = PCG64(seed: 11)
        let shapes: [(m: Int, n: Int, k: Int, ta: Bool, tb: Bool)] = [
            (128, 512, 512, false, true), (128, 512, 256, false, true), (128, 256, 512, false, false),
            (512, 512, 128, true, false), (256, 512, 128, true, false), (128, 128, 512, false, true),
            (96, 512, 512, false, true), (32, 1024, 256, false, false), (40, 1000, 300, false, true),
            (128, 512, 512, false, false), (77, 512, 576, false, false), (512, 576, 77, true, false),
            // A research-scale last batch (90 rows) through an adapter's input gradient: an untransposed product
            // small enough for OpenBLAS's direct kernel.
            (90, 256, 64, false, false),
        ]
        for shape in shapes {
            let a = Self.random(shape.m * shape.k, &rng)
            let b = Self.random(shape.k * shape.n, &rng)
            let c0 = Self.random(shape.m * shape.n, &rng)
            // Both scalings: alpha 1 and beta 0 is the one OpenBLAS may send to its direct kernel.
            for (alpha, beta) in [(Float(0.5), Float(0.25)), (Float(1), Float(0))] {
                var results: [[Float]] = []
                for width in [1, 2] {
                    BLAS.setThreadCount(width)
                    var c = c0
                    BLAS.sgemm(
                        transposeA: shape.ta, transposeB: shape.tb, m: shape.m, n: shape.n, k: shape.k,
                        alpha: alpha, a: a, b: b, beta: beta, c: &c)
                    results.append(c)
                }
                BLAS.setThreadCount(1)
                let bad = Self.differing(results[0], results[1])
                #expect(
                    bad.isEmpty,
                    "\(shape), alpha \(alpha), beta \(beta): \(bad.count) of \(results[0].count) elements differ between 1 and 2 threads"
                )
            }
        }
    }

    /// A whole uncached training step of the research model (AdamW) at width 2 leaves the same logits, gradients
    /// and parameters as at width 1: Stage 2 at batch 128 with the backbone's BatchNorm in train and in eval mode
    /// (the research protocol), and Stage 1 (every backbone weight gradient) at a last batch of 77 rows.
    @Test(arguments: [
        (Stage.stage2, 128, BatchNorm2d.Mode.train), (Stage.stage1, 77, .train), (Stage.stage2, 128, .eval),
    ])
    func trainingStepIsIndependentOfThreads(stage: Stage, batch: Int, backboneBN: BatchNorm2d.Mode) {
        var rng = PCG64(seed: 5)
        let x = Tensor(
            shape: [batch, 1, 16, 16], data: (0..<(batch * 256)).map { _ in Float(rng.bounded(1024)) / 1023 })
        let classes = stage.head.classes
        let labels = (0..<batch).map { _ in rng.bounded(classes) }
        var outcomes: [(logits: [Float], gradients: [Float], values: [Float])] = []
        for width in [1, 2] {
            BLAS.setThreadCount(width)
            let model = PartitionModel(ModelConfig(stage: stage), seed: 3)
            let optimizer = Self.researchOptimizer(model)
            let loss = Self.researchLoss(classes: classes)
            var cache = PartitionModel.Cache()
            var random = PCG64(seed: 9)
            let mode = PartitionModel.Mode(backboneBN: backboneBN, adapterBN: .train, dropout: true)
            model.store.zeroGradients()
            let logits = model.forward(x, mode: mode, random: &random, cache: &cache)
            model.backward(loss.evaluate(logits: logits, labels: labels).gradient, cache: cache)
            let trainable = model.store.entries.indices.filter { model.store.entries[$0].trainable }.map {
                model.store.ref(at: $0)
            }
            let gradients = trainable.flatMap { ref in (0..<ref.count).map { model.store.gradients(ref)[$0] } }
            optimizer.update(model.store)
            outcomes.append((logits.data, gradients, trainable.flatMap { model.store.array($0) }))
        }
        BLAS.setThreadCount(1)
        #expect(
            Self.differing(outcomes[0].logits, outcomes[1].logits).isEmpty,
            "\(stage), BN \(backboneBN): logits differ between 1 and 2 threads")
        #expect(
            Self.differing(outcomes[0].gradients, outcomes[1].gradients).isEmpty,
            "\(stage), BN \(backboneBN): gradients differ between 1 and 2 threads")
        #expect(
            Self.differing(outcomes[0].values, outcomes[1].values).isEmpty,
            "\(stage), BN \(backboneBN): parameters after AdamW differ between 1 and 2 threads")
    }

    /// AdamW with the research protocol's groups and learning rates (adapters 1e-3, backbone and head 1e-4).
    static func researchOptimizer(_ model: PartitionModel) -> AdamW {
        AdamW(
            store: model.store,
            groups: [
                AdamW.Group(name: "adapters", prefix: "adapters.", learningRate: 1e-3),
                AdamW.Group(name: "backbone", prefix: "backbone.", learningRate: 1e-4),
                AdamW.Group(name: "head", prefix: "head.", learningRate: 1e-4),
            ])
    }

    /// Class-balanced focal loss (γ 2) over the first `classes` of three fixed class weights.
    static func researchLoss(classes: Int) -> Loss {
        Loss(kind: .cbFocal(gamma: 2, beta: 0.9999), classWeights: Array([1, 0.5, 0.7].prefix(classes)))
    }

    /// Prefix outputs computed by `ParallelBatches` on 2 threads, in batch order, equal one thread's.
    @Test func parallelBatchesEqualSerial() {
        var rng = PCG64(seed: 8)
        let model = PartitionModel(ModelConfig(stage: .stage2, width: 16), seed: 2)
        let batches = (0..<5).map { b in
            Tensor(
                shape: [b == 4 ? 7 : 32, 1, 16, 16],
                data: (0..<((b == 4 ? 7 : 32) * 256)).map { _ in Float(rng.bounded(1024)) / 1023 })
        }
        let shared = ParallelBatches.Shared(model)
        let inputs = ParallelBatches.Shared(batches)
        let outputs = [1, 2].map { threads in
            ParallelBatches.map(count: batches.count, threads: threads) { batch -> [Float] in
                var cache = PartitionModel.Cache()
                return shared.value.forwardPrefix(inputs.value[batch], cache: &cache)?.data ?? []
            }
        }
        #expect(outputs[0].count == 5 && outputs[0].allSatisfy { !$0.isEmpty })
        for batch in 0..<5 {
            #expect(
                Self.differing(outputs[0][batch], outputs[1][batch]).isEmpty,
                "batch \(batch) differs between 1 and 2 threads")
        }
    }
}
