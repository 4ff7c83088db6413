// BLAS+RowInvariance: the probe that checks OpenBLAS's loaded kernels compute each row of a product alone.
/// The trainer's products no longer run on OpenBLAS: Ablate's own kernels (`GEMMKernel`) compute every element by
/// one rule, so their rows are position-independent by construction and the bitwise guarantees do not need this
/// probe. It stays for the OpenBLAS reference (`BLAS.referenceSGEMM`, `ablate version`, `KernelSelection`).
///
/// Ablate's exactness rested on one property of OpenBLAS's GEMM kernels: with the rows padded to `rowPadding`, a row's
/// result depends only on that row (not on its position or on the other rows), and a column block's only on
/// those columns. Row padding makes a forward pass a per-row function (the frozen-prefix cache, parallel
/// batches), and splitting a product over threads at row or column blocks then changes no element.
///
/// Not every kernel family has it. OpenBLAS 0.3.21's `Zen` and `Haswell` kernels compute rows in groups of 12
/// whose two halves round differently (measured on an AMD EPYC, Zen 3: rows 7..<39 of a product computed alone
/// differ in about 5 % of their elements from the same rows of the whole product), so there a cached run and an
/// uncached one, or 1 and 2 threads, would part ways. `Sandybridge`, `Prescott` and (on the machines this
/// project ran on before) `SkylakeX` have it.
extension BLAS {
    /// Whether the loaded kernels passed `rowInvarianceFailure` (run once per process, about 15 ms). GEMMs are
    /// split over threads only when they did; `preferredCoreType` names a kernel family that does otherwise.
    public static let kernelIsRowInvariant: Bool = {
        _ = libraryIsSingleThreaded
        return rowInvarianceFailure(using: call) == nil
    }()

    /// One product with `call`'s arguments: transposes, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc.
    typealias Product = (
        Bool, Bool, Int, Int, Int, Float, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Float,
        UnsafeMutablePointer<Float>, Int
    ) -> Void

    /// Compares, bit for bit, a 96 × 512 product (depth 768) with 32-row products of its rows 7..<39 and
    /// 32..<64 and a 128-column product of its columns 128..<256: for the three transpose patterns the layers use
    /// (X·Wᵀ, dY·W, dYᵀ·X) with alpha 1 and beta 0, and X·Wᵀ with alpha 0.5 and beta 0.25. Those products are past
    /// OpenBLAS's small-matrix and direct-kernel limits (see `splitKeepsKernels`). The same row parts of a
    /// 96 × 128 product of depth 768 and of 512-row products shaped like the width-16 model's convolutions
    /// (16 × 144 and 32 × 288) then cross those limits (the whole on the regular kernels, its 32-row parts under
    /// the direct kernel's 28·512² or the small-matrix kernels' 100³ multiply-adds), as a forward pass over a few
    /// rows does against the same rows in a whole batch. Measured on an AMD EPYC with AVX-512: `SkylakeX` (and
    /// `Cooperlake`) pass the first products and fail each of the two convolution shapes, `Sandybridge` passes
    /// all. Returns the first disagreement, or nil when there is none.
    static func rowInvarianceFailure(using product: Product) -> String? {
        let shapes: [(rows: Int, columns: Int, depth: Int, columnsToo: Bool)] = [
            (96, 512, 768, true), (96, 128, 768, false), (512, 16, 144, false), (512, 32, 288, false),
        ]
        for shape in shapes {
            if let failure = rowInvarianceFailure(
                using: product, rows: shape.rows, columns: shape.columns, depth: shape.depth,
                columnsToo: shape.columnsToo)
            {
                return failure
            }
        }
        return nil
    }

    /// One shape of `rowInvarianceFailure`: `rows` × `columns`, `depth`; the column part only with `columnsToo`.
    private static func rowInvarianceFailure(
        using product: Product, rows: Int, columns: Int, depth: Int, columnsToo: Bool
    ) -> String? {
        let block = 32, columnFirst = 128, columnCount = 128
        let a = ProbeMatrix(count: rows * depth, seed: 1)
        let b = ProbeMatrix(count: depth * columns, seed: 2)
        let start = ProbeMatrix(count: rows * columns, seed: 3)
        let whole = ProbeMatrix(count: rows * columns, seed: 0)
        let part = ProbeMatrix(count: rows * columns, seed: 0)
        let cases: [(transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float)] = [
            (false, true, 1, 0), (false, false, 1, 0), (true, false, 1, 0), (false, true, 0.5, 0.25),
        ]
        for test in cases {
            let lda = test.transposeA ? rows : depth
            let ldb = test.transposeB ? depth : columns
            let name =
                "\(rows)×\(columns)×\(depth) \(test.transposeA ? "Aᵀ" : "A")·\(test.transposeB ? "Bᵀ" : "B"), alpha \(test.alpha), beta \(test.beta)"
            whole.copy(from: start)
            product(
                test.transposeA, test.transposeB, rows, columns, depth, test.alpha, a.values, lda, b.values, ldb,
                test.beta,
                whole.values, columns)
            for first in [7, 32] {
                part.copy(from: start)
                let target = part.values + first * columns
                product(
                    test.transposeA, test.transposeB, block, columns, depth, test.alpha,
                    a.values + (test.transposeA ? first : first * lda),
                    lda, b.values, ldb, test.beta, target, columns)
                for index in first * columns..<(first + block) * columns
                where part.values[index].bitPattern != whole.values[index].bitPattern {
                    return
                        "\(name): rows \(first)..<\(first + block) computed alone differ from the whole product (row \(index / columns), column \(index % columns))"
                }
            }
            guard columnsToo else { continue }
            // Columns 128..<256 alone, into a dense rows × 128 block.
            for row in 0..<rows {
                for column in 0..<columnCount {
                    part.values[row * columnCount + column] = start.values[row * columns + columnFirst + column]
                }
            }
            product(
                test.transposeA, test.transposeB, rows, columnCount, depth, test.alpha, a.values, lda,
                b.values + (test.transposeB ? columnFirst * ldb : columnFirst), ldb, test.beta, part.values, columnCount
            )
            for row in 0..<rows {
                for column in 0..<columnCount
                where part.values[row * columnCount + column].bitPattern
                    != whole.values[row * columns + columnFirst + column].bitPattern
                {
                    return
                        "\(name): columns \(columnFirst)..<\(columnFirst + columnCount) computed alone differ from the whole product (row \(row), column \(columnFirst + column))"
                }
            }
        }
        return nil
    }
}

/// A probe operand: `count` values in [-1, 1] with three decimals from a fixed linear congruential stream
/// (seed 0: zeros), freed with the object.
private final class ProbeMatrix {
    let values: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int, seed: UInt64) {
        self.count = count
        values = .allocate(capacity: count)
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        for index in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values[index] = seed == 0 ? 0 : Float(Int((state >> 33) % 2001) - 1000) / 1000
        }
    }

    func copy(from other: ProbeMatrix) {
        values.update(from: other.values, count: min(count, other.count))
    }

    deinit { values.deallocate() }
}
