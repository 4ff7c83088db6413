import Testing

// RowInvarianceTests: the kernel probe passes on the loaded kernels, and catches a product whose rows depend on position.
@testable import NN

/// `BLAS.rowInvarianceFailure` is what every bitwise guarantee of the trainer rests on (the frozen-prefix cache,
/// `--threads`): the kernels this process runs must pass it, and it must fail for a kernel that rounds a row by
/// its position, as OpenBLAS's Zen and Haswell kernels do.
@Suite("Row invariance")
struct RowInvarianceTests {
    /// The tests run on the kernels `ablate` itself selects (`scripts/test.sh` exports them).
    @Test func loadedKernelsAreRowInvariant() {
        let failure = BLAS.rowInvarianceFailure(using: BLAS.call)
        #expect(
            failure == nil,
            """
            OpenBLAS kernel \(BLAS.coreName): \(failure ?? ""). Run the tests through scripts/test.sh, which exports the kernel \
            family ablate selects, or set OPENBLAS_CORETYPE=\(BLAS.rowInvariantFallback).
            """)
        #expect(BLAS.kernelIsRowInvariant == (failure == nil))
    }

    /// A stand-in product, row-invariant by construction and cheap: element (i, j) is
    /// alpha · (op(A)[i, 0] + op(B)[0, j]) + beta · C[i, j]. The probe passes it on any machine.
    static func invariant(
        _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
        _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                let sum = (ta ? a[i] : a[i * lda]) + (tb ? b[j * ldb] : b[j])
                c[i * ldc + j] = alpha * sum + beta * c[i * ldc + j]
            }
        }
    }

    /// The stand-in passes; nudging the first row of every call by one ulp (a row rounded by its position in the
    /// call) fails on the rows computed alone; nudging one element of every 128-column call fails on the column
    /// block, naming the element; nudging only calls of at most 100³ multiply-adds (kernels of their own for small
    /// products, as OpenBLAS's SkylakeX small-matrix kernels round differently) fails on the first product shaped
    /// like a convolution, whose whole is larger.
    @Test func probeCatchesPositionDependentRows() {
        #expect(BLAS.rowInvarianceFailure(using: Self.invariant) == nil)

        let firstRowNudged: BLAS.Product = { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            Self.invariant(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            c[0] = c[0].nextUp
        }
        let rowFailure = BLAS.rowInvarianceFailure(using: firstRowNudged)
        #expect(
            rowFailure
                == "96×512×768 A·Bᵀ, alpha 1.0, beta 0.0: rows 7..<39 computed alone differ from the whole product (row 7, column 0)",
            "\(rowFailure ?? "passed")")

        let narrowCallsNudged: BLAS.Product = { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            Self.invariant(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            if n == 128 { c[5 * ldc + 3] = c[5 * ldc + 3].nextUp }
        }
        let narrowFailure = BLAS.rowInvarianceFailure(using: narrowCallsNudged)
        #expect(
            narrowFailure
                == "96×512×768 A·Bᵀ, alpha 1.0, beta 0.0: columns 128..<256 computed alone differ from the whole product (row 5, column 131)",
            "\(narrowFailure ?? "passed")")

        let smallCallsNudged: BLAS.Product = { ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            Self.invariant(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            if m * n * k <= 1_000_000 { c[0] = c[0].nextUp }
        }
        let smallFailure = BLAS.rowInvarianceFailure(using: smallCallsNudged)
        #expect(
            smallFailure
                == "512×16×144 A·Bᵀ, alpha 1.0, beta 0.0: rows 7..<39 computed alone differ from the whole product (row 7, column 0)",
            "\(smallFailure ?? "passed")")
    }
}
