// GEMMKernelTests: the own GEMM paths give the same bits as each other, whatever the threads or the row's position.
import AblateSupport
import NN
import RunSpec
import Testing

/// The bitwise guarantees rest on `GEMMKernel`'s rule: every path computes every element by the same chain of
/// FMAs. These tests compare the paths bit for bit (random and odd shapes, the trainer's shapes, whole training
/// steps), each against a Double reference and OpenBLAS within a tolerance, and the split over threads and the
/// row's position bit for bit. The selected path and the thread count are process-wide; the tests that set them
/// restore them, and since results do not depend on either, other suites running meanwhile are not disturbed.
@Suite("GEMM kernels", .serialized)
struct GEMMKernelTests {
    /// The paths this machine runs (all three on AVX-512 machines).
    static let paths = GEMMKernel.supported

    /// One product's operands, made from a fixed stream: values in [-1, 1] with three decimals.
    struct Operands {
        let m: Int, n: Int, k: Int
        let transposeA: Bool, transposeB: Bool
        let alpha: Float, beta: Float
        let a: [Float], b: [Float], c: [Float]

        init(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float, seed: UInt64) {
            (self.m, self.n, self.k, self.transposeA, self.transposeB, self.alpha, self.beta) =
                (m, n, k, transposeA, transposeB, alpha, beta)
            var rng = PCG64(seed: seed)
            a = (0..<(m * k)).map { _ in Float(rng.bounded(2001)) / 1000 - 1 }
            b = (0..<(k * n)).map { _ in Float(rng.bounded(2001)) / 1000 - 1 }
            c = (0..<(m * n)).map { _ in Float(rng.bounded(2001)) / 1000 - 1 }
        }

        var name: String {
            "\(m)×\(n)×\(k) \(transposeA ? "Aᵀ" : "A")·\(transposeB ? "Bᵀ" : "B") alpha \(alpha) beta \(beta)"
        }

        /// C after the product on `kernel` (nil: OpenBLAS).
        func product(_ kernel: GEMMKernel?) -> [Float] {
            var result = c
            a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    result.withUnsafeMutableBufferPointer { cb in
                        guard let ap = ab.baseAddress, let bp = bb.baseAddress, let cp = cb.baseAddress else { return }
                        if let kernel {
                            BLAS.sgemm(
                                kernel: kernel, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                alpha: alpha, a: ap, b: bp, beta: beta, c: cp)
                        } else {
                            BLAS.referenceSGEMM(
                                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: ap,
                                b: bp, beta: beta, c: cp)
                        }
                    }
                }
            }
            return result
        }

        /// C after the product in Double (`ReferenceOps`).
        var reference: [Float] {
            var result = c
            ReferenceOps.sgemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta,
                c: &result)
            return result
        }
    }

    /// The first index where two results differ bit for bit, described; nil when they agree.
    static func firstDifference(_ x: [Float], _ y: [Float], columns: Int) -> String? {
        guard let index = x.indices.first(where: { x[$0].bitPattern != y[$0].bitPattern }) else { return nil }
        let count = x.indices.filter { x[$0].bitPattern != y[$0].bitPattern }.count
        return
            "\(count) element(s) differ, first at row \(index / columns), column \(index % columns): \(x[index]) vs \(y[index])"
    }

    /// Random shapes with m, n, k in 1...300 (edge tiles of every size), every transpose pattern, alpha 1 or not,
    /// beta 0, 1 or another value.
    static let randomCases: [Operands] = {
        var rng = PCG64(seed: 2026)
        let alphas: [Float] = [1, 0.5, -1.25]
        let betas: [Float] = [0, 1, 0.3]
        return (0..<48).map { index in
            Operands(
                m: 1 + rng.bounded(300), n: 1 + rng.bounded(300), k: 1 + rng.bounded(300),
                transposeA: index & 1 == 1, transposeB: index & 2 == 2, alpha: alphas[index % 3],
                beta: betas[(index / 3) % 3], seed: UInt64(index))
        }
    }()

    /// Products shaped like the trainer's (research width 64, 16×16 blocks, batch 128): the stem's per-image
    /// convolution (64 × 64 × 49) and its weight and input gradients, the small-map products of layer1–layer4
    /// (128 batch rows × out channels × in channels·taps, and their dW = dYᵀ·X and dX = dY·W), a 1×1 downsample, and
    /// the head's Linear layers (X·Wᵀ with the bias as beta 1, dW accumulated with beta 1). Also a batch of 77 rows.
    static let trainerCases: [Operands] = {
        let shapes: [(m: Int, n: Int, k: Int, tA: Bool, tB: Bool, beta: Float)] = [
            (64, 64, 49, false, false, 0), (64, 49, 64, false, true, 1), (49, 64, 64, true, false, 0),
            (128, 64, 576, false, true, 0), (64, 576, 128, true, false, 0), (128, 576, 64, false, false, 1),
            (128, 128, 1152, false, true, 0), (128, 256, 2304, false, true, 0), (128, 512, 512, false, true, 0),
            (512, 512, 128, true, false, 0), (128, 512, 512, false, false, 0), (128, 128, 64, false, true, 0),
            (128, 256, 512, false, true, 1), (256, 512, 128, true, false, 1), (77, 256, 1152, false, true, 0),
        ]
        return shapes.enumerated().map { index, s in
            Operands(
                m: s.m, n: s.n, k: s.k, transposeA: s.tA, transposeB: s.tB, alpha: 1, beta: s.beta,
                seed: UInt64(100 + index))
        }
    }()

    /// Every supported path gives the first path's bits, on random and odd shapes.
    @Test func pathsAgreeBitwiseOnRandomShapes() {
        for operands in Self.randomCases {
            let results = Self.paths.map { operands.product($0) }
            for (path, result) in zip(Self.paths, results).dropFirst() {
                let difference = Self.firstDifference(results[0], result, columns: operands.n)
                #expect(difference == nil, "\(operands.name): \(Self.paths[0]) vs \(path): \(difference ?? "")")
            }
        }
    }

    /// The same on the trainer's shapes.
    @Test func pathsAgreeBitwiseOnTrainerShapes() {
        for operands in Self.trainerCases {
            let results = Self.paths.map { operands.product($0) }
            for (path, result) in zip(Self.paths, results).dropFirst() {
                let difference = Self.firstDifference(results[0], result, columns: operands.n)
                #expect(difference == nil, "\(operands.name): \(Self.paths[0]) vs \(path): \(difference ?? "")")
            }
        }
    }

    /// Each path agrees with the Double reference and with OpenBLAS within 2e-6·k (operands in [-1, 1]; float
    /// rounding over k steps stays far below), reporting the largest difference.
    @Test func pathsMatchReferences() {
        for operands in Self.randomCases.prefix(24) + Self.trainerCases.prefix(4) {
            let tolerance = 2e-6 * Float(operands.k) + 1e-6
            let double = operands.reference
            let openBLAS = operands.product(nil)
            for path in Self.paths {
                let result = operands.product(path)
                let fromDouble = zip(result, double).map { abs($0 - $1) }.max() ?? 0
                let fromOpenBLAS = zip(result, openBLAS).map { abs($0 - $1) }.max() ?? 0
                #expect(
                    fromDouble <= tolerance,
                    "\(operands.name), \(path): largest difference from the Double reference \(fromDouble) > \(tolerance)"
                )
                #expect(
                    fromOpenBLAS <= tolerance,
                    "\(operands.name), \(path): largest difference from OpenBLAS \(fromOpenBLAS) > \(tolerance)")
            }
        }
    }

    /// Special values follow the rule: beta 0 never reads C (NaN there is overwritten), k 0 gives beta·C.
    @Test func betaZeroIgnoresCAndEmptyDepthScalesC() {
        for path in Self.paths {
            let a: [Float] = [1, 2, 3, 4], b: [Float] = [1, 0, 0, 1]
            var c: [Float] = [.nan, .nan, .nan, .nan]
            a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    c.withUnsafeMutableBufferPointer { cb in
                        guard let ap = ab.baseAddress, let bp = bb.baseAddress, let cp = cb.baseAddress else { return }
                        BLAS.sgemm(kernel: path, m: 2, n: 2, k: 2, a: ap, b: bp, beta: 0, c: cp)
                    }
                }
            }
            #expect(c == [1, 2, 3, 4], "\(path): \(c)")
            var scaled: [Float] = [1, -2, 3, 4]
            a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    scaled.withUnsafeMutableBufferPointer { cb in
                        guard let ap = ab.baseAddress, let bp = bb.baseAddress, let cp = cb.baseAddress else { return }
                        BLAS.sgemm(kernel: path, m: 2, n: 2, k: 0, alpha: 3, a: ap, b: bp, beta: 0.5, c: cp)
                    }
                }
            }
            #expect(scaled == [0.5, -1, 1.5, 2], "\(path): \(scaled)")
        }
    }

    /// 1, 2 and 3 threads give the same bits on products split by rows and by columns, on every path.
    @Test func threadCountChangesNoBit() {
        let before = BLAS.threadCount
        defer { BLAS.setThreadCount(before) }
        let cases = [
            Operands(m: 301, n: 67, k: 260, transposeA: false, transposeB: true, alpha: 1, beta: 0, seed: 7),
            Operands(m: 37, n: 530, k: 290, transposeA: true, transposeB: false, alpha: 0.5, beta: 1, seed: 8),
            Operands(m: 128, n: 512, k: 512, transposeA: false, transposeB: true, alpha: 1, beta: 0.25, seed: 9),
            Operands(m: 64, n: 576, k: 700, transposeA: true, transposeB: true, alpha: 1, beta: 1, seed: 10),
        ]
        for operands in cases {
            for path in Self.paths {
                let results = [1, 2, 3].map { threads in
                    BLAS.setThreadCount(threads)
                    return operands.product(path)
                }
                for (threads, result) in zip([2, 3], results.dropFirst()) {
                    let difference = Self.firstDifference(results[0], result, columns: operands.n)
                    #expect(
                        difference == nil, "\(operands.name), \(path): 1 vs \(threads) threads: \(difference ?? "")")
                }
            }
        }
    }

    /// A block of rows (or columns) computed alone equals, bit for bit, the same rows of the whole product, at
    /// offsets that cut through register tiles.
    @Test func rowsAndColumnsAreIndependentOfTheirPosition() {
        let whole = Operands(m: 133, n: 150, k: 333, transposeA: false, transposeB: false, alpha: 1, beta: 0, seed: 11)
        for path in Self.paths {
            let full = whole.product(path)
            for (first, count) in [(0, 1), (7, 32), (13, 100), (131, 2)] {
                let rows = Operands(
                    m: count, n: whole.n, k: whole.k, transposeA: false, transposeB: false, alpha: 1, beta: 0,
                    a: Array(whole.a[(first * whole.k)..<((first + count) * whole.k)]), b: whole.b,
                    c: Array(repeating: 0, count: count * whole.n))
                let part = rows.product(path)
                let expected = Array(full[(first * whole.n)..<((first + count) * whole.n)])
                let difference = Self.firstDifference(expected, part, columns: whole.n)
                #expect(difference == nil, "\(path): rows \(first)..<\(first + count) alone: \(difference ?? "")")
            }
            for (first, count) in [(5, 17), (33, 64)] {
                var b: [Float] = []
                for p in 0..<whole.k { b += whole.b[(p * whole.n + first)..<(p * whole.n + first + count)] }
                let columns = Operands(
                    m: whole.m, n: count, k: whole.k, transposeA: false, transposeB: false, alpha: 1, beta: 0,
                    a: whole.a,
                    b: b, c: Array(repeating: 0, count: whole.m * count))
                let part = columns.product(path)
                var expected: [Float] = []
                for i in 0..<whole.m { expected += full[(i * whole.n + first)..<(i * whole.n + first + count)] }
                let difference = Self.firstDifference(expected, part, columns: count)
                #expect(difference == nil, "\(path): columns \(first)..<\(first + count) alone: \(difference ?? "")")
            }
        }
    }

    /// A whole training step of the model (width 16, to keep the scalar path quick; AdamW, focal loss) leaves the
    /// same logits, gradients and parameters on every path and on 1 and 2 threads: Stage 2 at batch 128 (BatchNorm in train
    /// mode) and Stage 1 (every backbone weight gradient) at a last batch of 77 rows.
    @Test(arguments: [(Stage.stage2, 128), (Stage.stage1, 77)])
    func trainingStepIsIndependentOfPathAndThreads(stage: Stage, batch: Int) {
        let before = (BLAS.threadCount, GEMMKernel.selected)
        defer {
            BLAS.setThreadCount(before.0)
            GEMMKernel.select(before.1)
        }
        var rng = PCG64(seed: 5)
        let x = Tensor(
            shape: [batch, 1, 16, 16], data: (0..<(batch * 256)).map { _ in Float(rng.bounded(1024)) / 1023 })
        let classes = stage.head.classes
        let labels = (0..<batch).map { _ in rng.bounded(classes) }
        let runs = Self.paths.flatMap { path in [1, 2].map { (path, $0) } }.filter { $0.0 != .scalar || $0.1 == 1 }
        var outcomes: [(name: String, logits: [Float], gradients: [Float], values: [Float])] = []
        for (path, threads) in runs {
            GEMMKernel.select(path)
            BLAS.setThreadCount(threads)
            let model = PartitionModel(ModelConfig(stage: stage, width: 16), seed: 3)
            let optimizer = ThreadingTests.researchOptimizer(model)
            let loss = ThreadingTests.researchLoss(classes: classes)
            var cache = PartitionModel.Cache()
            var random = PCG64(seed: 9)
            let mode = PartitionModel.Mode(backboneBN: .train, adapterBN: .train, dropout: true)
            model.store.zeroGradients()
            let logits = model.forward(x, mode: mode, random: &random, cache: &cache)
            model.backward(loss.evaluate(logits: logits, labels: labels).gradient, cache: cache)
            let trainable = model.store.entries.indices.filter { model.store.entries[$0].trainable }.map {
                model.store.ref(at: $0)
            }
            let gradients = trainable.flatMap { ref in (0..<ref.count).map { model.store.gradients(ref)[$0] } }
            optimizer.update(model.store)
            outcomes.append(
                ("\(path), \(threads) thread(s)", logits.data, gradients, trainable.flatMap { model.store.array($0) }))
        }
        for outcome in outcomes.dropFirst() {
            let first = outcomes[0]
            #expect(
                ThreadingTests.differing(first.logits, outcome.logits).isEmpty,
                "\(stage): logits differ between \(first.name) and \(outcome.name)")
            #expect(
                ThreadingTests.differing(first.gradients, outcome.gradients).isEmpty,
                "\(stage): gradients differ between \(first.name) and \(outcome.name)")
            #expect(
                ThreadingTests.differing(first.values, outcome.values).isEmpty,
                "\(stage): parameters after AdamW differ between \(first.name) and \(outcome.name)")
        }
    }

    /// `best` is supported and fastest-first; `parse` accepts the supported names and refuses the rest in one line.
    @Test func selectionAndParsing() {
        #expect(GEMMKernel.best.isSupported && GEMMKernel.best == GEMMKernel.supported.first)
        #expect(GEMMKernel.scalar.isSupported)
        for path in GEMMKernel.supported { #expect((try? GEMMKernel.parse(path.rawValue).get()) == path) }
        if case .failure(let error) = GEMMKernel.parse("sse9") {
            #expect(error.message.contains("unknown GEMM kernel") && !error.message.contains("\n"))
        } else {
            Issue.record("parse accepted an unknown kernel")
        }
    }
}

extension GEMMKernelTests.Operands {
    /// Operands given outright.
    init(
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float, a: [Float], b: [Float],
        c: [Float]
    ) {
        (self.m, self.n, self.k, self.transposeA, self.transposeB, self.alpha, self.beta) =
            (m, n, k, transposeA, transposeB, alpha, beta)
        (self.a, self.b, self.c) = (a, b, c)
    }
}
