import AblateSupport
import RunSpec
import Testing

// BufferPoolTests: buffers come back only when unshared, and training steps reuse every buffer without changing a bit.
@testable import NN

/// The per-thread `BufferPool` behind every tensor of a step: its uniqueness check, and whole training steps of
/// the research model that take each buffer from the previous step (no allocation from the second step on) and
/// end with exactly the logits and parameters of the same steps run with the pool holding nothing. Both runs fill
/// every buffer they hand out with NaN first, so a layer reading a buffer before writing it cannot go unnoticed.
@Suite("Buffer pool", .serialized)
struct BufferPoolTests {
    @Test func uniquenessCheck() {
        // Checked outside `#expect`, whose expansion may hold a copy of its operands.
        var array = [Float](repeating: 1, count: 3)
        let alone = BufferPool.isUniquelyReferenced(&array)
        let copy = array
        let shared = BufferPool.isUniquelyReferenced(&array)
        var empty: [Float] = []
        let emptyIsUnique = BufferPool.isUniquelyReferenced(&empty)
        #expect(alone)
        #expect(!shared)
        #expect(copy.count == 3)
        #expect(!emptyIsUnique)
    }

    @Test func onlyUnsharedBuffersComeBack() {
        let pool = BufferPool()
        var a = pool.take(100)
        let address = a.withUnsafeBufferPointer { $0.baseAddress }
        pool.recycle(&a)
        #expect(a.isEmpty)
        var b = pool.take(100)
        #expect(b.withUnsafeBufferPointer { $0.baseAddress } == address, "a recycled buffer is handed out again")
        #expect(pool.hits == 1 && pool.misses == 1)

        // A buffer still referenced elsewhere is released, not kept: the next take allocates, and writing the new
        // buffer leaves the other holder's values alone.
        b.withUnsafeMutableBufferPointer { $0.update(repeating: 7) }
        let kept = b
        pool.recycle(&b)
        var c = pool.zeros(100)
        #expect(pool.misses == 2)
        c[0] = 1
        #expect(kept.allSatisfy { $0 == 7 })
        #expect(c[0] == 1 && c[1...].allSatisfy { $0 == 0 })

        // Beyond the retained limit buffers are released: of two buffers of 100 elements a limit of 150 keeps one.
        pool.retainedLimit = 150
        var d = pool.take(100)
        #expect(pool.misses == 3)
        pool.recycle(&c)
        pool.recycle(&d)
        let first = pool.take(100), second = pool.take(100)
        #expect(first.count == 100 && second.count == 100)
        #expect(pool.hits == 2 && pool.misses == 4)
    }

    /// Three training steps (forward, loss, backward, AdamW) on a reused cache: from the second step on the thread's
    /// pool supplies every buffer. The same steps with a pool that keeps nothing give the same logits and parameters
    /// bit for bit, and all are finite although every handed-out buffer started as NaN. Stage 2 from the prefix
    /// cache and without it (backbone BatchNorm in train mode), and Stage 1 (the stem's backward), each at a
    /// batch that is not a multiple of the BLAS row padding.
    @Test(arguments: [
        ("stage 2, cached", Stage.stage2, true), ("stage 2, uncached", .stage2, false), ("stage 1", .stage1, false),
    ])
    func trainingStepsReuseEveryBuffer(label: String, stage: Stage, fromPrefix: Bool) {
        let batch = 13
        var rng = PCG64(seed: 11)
        let x = Tensor(
            shape: [batch, 1, 16, 16], data: (0..<(batch * 256)).map { _ in Float(rng.bounded(1024)) / 1023 })
        let classes = stage.head.classes
        let labels = (0..<batch).map { _ in rng.bounded(classes) }
        let pool = BufferPool.current
        let savedLimit = pool.retainedLimit
        pool.poisonsTakenBuffers = true
        defer {
            pool.poisonsTakenBuffers = false
            pool.retainedLimit = savedLimit
            pool.removeAll()
        }
        var runs: [(logits: [[Float]], values: [Float], missesAfterFirstStep: Int)] = []
        for keepsBuffers in [true, false] {
            pool.removeAll()
            pool.retainedLimit = keepsBuffers ? savedLimit : 0
            let model = PartitionModel(ModelConfig(stage: stage, width: 8), seed: 3)
            let optimizer = ThreadingTests.researchOptimizer(model)
            let loss = ThreadingTests.researchLoss(classes: classes)
            var prefixCache = PartitionModel.Cache()
            let input = fromPrefix ? model.forwardPrefix(x, cache: &prefixCache) ?? x : x
            var cache = PartitionModel.Cache()
            var random = PCG64(seed: 9)
            let mode = PartitionModel.Mode(backboneBN: fromPrefix ? .eval : .train, adapterBN: .train, dropout: true)
            var stepLogits: [[Float]] = []
            var missesAfterFirstStep = 0
            for step in 0..<3 {
                let missesBefore = pool.misses
                model.store.zeroGradients()
                var logits =
                    fromPrefix
                    ? model.forward(prefixOutput: input, mode: mode, random: &random, cache: &cache) ?? x
                    : model.forward(input, mode: mode, random: &random, cache: &cache)
                var gradient = loss.evaluate(logits: logits, labels: labels).gradient
                model.backward(gradient, cache: cache)
                optimizer.update(model.store)
                stepLogits.append(logits.data.map { $0 })
                pool.recycle(&gradient)
                pool.recycle(&logits)
                if step > 0 { missesAfterFirstStep += pool.misses - missesBefore }
            }
            let values = model.store.entries.indices.flatMap { model.store.array(model.store.ref(at: $0)) }
            runs.append((stepLogits, values, missesAfterFirstStep))
        }
        #expect(
            runs[0].missesAfterFirstStep == 0,
            "\(label): \(runs[0].missesAfterFirstStep) buffers allocated in steps 2 and 3")
        #expect(runs[1].missesAfterFirstStep > 0, "\(label): the pool that keeps nothing allocates every step")
        for step in 0..<3 {
            #expect(runs[0].logits[step].allSatisfy { $0.isFinite }, "\(label): step \(step + 1) logits are not finite")
            #expect(
                ThreadingTests.differing(runs[0].logits[step], runs[1].logits[step]).isEmpty,
                "\(label): step \(step + 1) logits differ")
        }
        #expect(runs[0].values.allSatisfy { $0.isFinite }, "\(label): parameters are not finite")
        let differing = ThreadingTests.differing(runs[0].values, runs[1].values)
        #expect(differing.isEmpty, "\(label): \(differing.count) of \(runs[0].values.count) parameter values differ")
    }
}
