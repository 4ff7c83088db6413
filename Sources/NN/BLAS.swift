// BLAS: row-major single-precision GEMM on the own kernels, and OpenBLAS (the plain reference) and its runtime controls.
import CKernels
import COpenBLAS
import Synchronization

/// Single-precision matrix products, row-major throughout: `sgemm` on Ablate's own kernels (`GEMMKernel`), which
/// every product of the trainer goes through, and `referenceSGEMM` on OpenBLAS, the only file that calls it.
public enum BLAS {
    /// The kernel family OpenBLAS selected for this CPU (e.g. `Haswell`, `SkylakeX`).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Whether the CPU and OS support the AVX-512 subsets OpenBLAS's SkylakeX kernels use (cpuid + XCR0).
    public static var cpuHasAVX512: Bool { ablate_cpu_has_avx512() == 1 }

    /// Whether the CPU and OS support AVX (what OpenBLAS's Sandybridge kernels use).
    public static var cpuHasAVX: Bool { ablate_cpu_has_avx() == 1 }

    /// The kernel family to re-execute with, given the loaded one and the families visited so far in this chain of
    /// re-executions (nil: keep the loaded one). A family that passes the row-invariance probe is kept, except that on
    /// AVX-512 CPUs `SkylakeX` is tried once (Debian's OpenBLAS 0.3.21 picks Haswell or even Prescott kernels on
    /// AVX-512 CPUs it does not know, and SkylakeX measured 1.8× faster per training epoch where it passes). A family
    /// that fails goes to `SkylakeX` (AVX-512, not visited yet) or else to `fallback`, which passes everywhere it
    /// was measured; a return to a visited `fallback` ends the chain there, so it always ends.
    public static func nextCoreType(loaded: String, passes: Bool, avx512: Bool, fallback: String, visited: [String])
        -> String?
    {
        if passes {
            return avx512 && loaded != "SkylakeX" && !visited.contains("SkylakeX") ? "SkylakeX" : nil
        }
        if avx512 && loaded != "SkylakeX" && !visited.contains("SkylakeX") { return "SkylakeX" }
        return loaded == fallback ? nil : fallback
    }

    /// `nextCoreType` for this process (no family visited before it).
    public static var preferredCoreType: String? {
        nextCoreType(
            loaded: coreName, passes: kernelIsRowInvariant, avx512: cpuHasAVX512, fallback: rowInvariantFallback,
            visited: [])
    }

    /// The kernel family taken when the loaded one fails the row-invariance probe: `Sandybridge` with AVX, else
    /// `Prescott`. Both passed it on an AMD EPYC (Zen 3), where OpenBLAS's own choice (`Zen`, Haswell's kernels)
    /// did not; they are slower there (32–40 against 47–73 GFLOP/s on the training step's shapes).
    public static var rowInvariantFallback: String { cpuHasAVX ? "Sandybridge" : "Prescott" }

    /// Threads a GEMM is split over (`ComputePool`'s width); OpenBLAS itself always runs single-threaded.
    public static var threadCount: Int { ComputePool.shared.width }

    /// Sets the threads GEMMs are split over. Results do not depend on it (tested); it is recorded with every
    /// run all the same.
    public static func setThreadCount(_ count: Int) {
        _ = libraryIsSingleThreaded
        ComputePool.shared.setWidth(count)
    }

    /// OpenBLAS set to one thread, once, before its first use: its own threads would spin while Ablate's loops
    /// run, and their count changes results.
    static let libraryIsSingleThreaded: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// OpenBLAS's own thread count (1 once any run has set the thread count).
    public static var libraryThreadCount: Int { Int(openblas_get_num_threads()) }

    /// Row counts are padded to this multiple in forward GEMMs whose rows are batch rows. OpenBLAS computed a
    /// remainder of rows with edge kernels that rounded differently, so without padding a row's result depended
    /// on the batch it came in (measured: ~3e-8 differences for batches of 100 or 7 vs 256). The own kernels
    /// compute every row alike (`GEMMKernel`), so a forward pass is a per-row function without it; the padding
    /// stays, harmless, and keeps the OpenBLAS reference row-invariant too.
    public static let rowPadding = 32

    /// `n` rounded up to a multiple of `rowPadding`.
    public static func paddedRows(_ n: Int) -> Int { (n + rowPadding - 1) / rowPadding * rowPadding }

    /// Floating-point operations issued through `sgemm` (any path) since the process started (2·m·n·k per call), for
    /// benchmarks' achieved-GFLOP/s figures.
    public static let flopCounter = Atomic<Int>(0)

    /// `C = alpha · op(A) · op(B) + beta · C` with row-major `A` (m×k after `op`), `B` (k×n after `op`), `C` (m×n),
    /// on the selected own kernel (`GEMMKernel.selected`): every element by `GEMMKernel`'s rule, so the bits depend
    /// on neither the CPU, nor the path, nor the thread count. Products of at least `parallelMACs` multiply-adds are
    /// split over `ComputePool.shared` into blocks of output rows or columns (never of `k`), which changes no element.
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        beta: Float = 0, c: UnsafeMutablePointer<Float>
    ) {
        sgemm(
            kernel: GEMMKernel.selected, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, b: b, beta: beta, c: c)
    }

    /// Multiply-adds from which `sgemm` splits a product over the compute threads.
    public static let parallelMACs = 1 << 18

    /// `sgemm` on the given path (tests and benchmarks compare the paths; the trainer uses the selected one).
    public static func sgemm(
        kernel: GEMMKernel, transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        beta: Float = 0, c: UnsafeMutablePointer<Float>
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative dimension")
        if m == 0 || n == 0 { return }
        flopCounter.add(2 * m * n * k, ordering: .relaxed)
        let lda = max(1, transposeA ? m : k)
        let ldb = max(1, transposeB ? k : n)
        let code = kernel.code
        let parts = ComputePool.shared.width
        guard parts > 1 && m * n * k >= parallelMACs else {
            ablate_sgemm(code, transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
            return
        }
        // Blocks at multiples of the register tile. Each thread packs the whole of the operand it does not split
        // (B, k × n, for row blocks; A, m × k, for column blocks), so the smaller one is the one repeated.
        let tile = kernel.tile
        let rowStep = ((m + parts - 1) / parts + tile.rows - 1) / tile.rows * tile.rows
        let columnStep = ((n + parts - 1) / parts + tile.columns - 1) / tile.columns * tile.columns
        let byRows = rowStep < m && (columnStep >= n || n <= m)
        if byRows {
            ComputePool.shared.run { part in
                let first = part * rowStep
                guard first < m else { return }
                ablate_sgemm(
                    code, transposeA ? 1 : 0, transposeB ? 1 : 0, min(rowStep, m - first), n, k, alpha,
                    a + (transposeA ? first : first * lda), lda, b, ldb, beta, c + first * n, n)
            }
        } else if columnStep < n {
            ComputePool.shared.run { part in
                let first = part * columnStep
                guard first < n else { return }
                ablate_sgemm(
                    code, transposeA ? 1 : 0, transposeB ? 1 : 0, m, min(columnStep, n - first), k, alpha, a, lda,
                    b + (transposeB ? first * ldb : first), ldb, beta, c + first, n)
            }
        } else {
            ablate_sgemm(code, transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
        }
    }

    /// OpenBLAS's `cblas_sgemm` with `sgemm`'s contract, on the calling thread: the plain reference the own
    /// kernels are tested and benchmarked against. Its results carry no bitwise guarantee (they depend on the
    /// kernel family OpenBLAS loaded, and for some families on a row's position); the trainer does not use it.
    public static func referenceSGEMM(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        beta: Float = 0, c: UnsafeMutablePointer<Float>
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative dimension")
        if m == 0 || n == 0 { return }
        _ = libraryIsSingleThreaded
        call(
            transposeA, transposeB, m, n, k, alpha, a, max(1, transposeA ? m : k), b, max(1, transposeB ? k : n),
            beta, c, n)
    }

    /// Whether a block of `blockMACs` multiply-adds (and so the whole product, which is larger) runs on
    /// OpenBLAS's regular GEMM kernels: what splitting an OpenBLAS product would need to keep its bits (the own
    /// kernels need no such condition). OpenBLAS 0.3.21 takes other kernels, which round differently, for small
    /// products: its small-matrix kernels when m·n·k ≤ 100³, and for untransposed row-major products with
    /// alpha 1 and beta 0 its SkylakeX "direct" kernel when m·n·k < 28·512². A product is split only when its
    /// blocks are past both limits, so that the split changes no element's kernel.
    static func splitKeepsKernels(blockMACs: Int, transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float) -> Bool
    {
        // A kernel whose rows depend on their position would give another result for every block.
        if !kernelIsRowInvariant { return false }
        if blockMACs <= 1_000_000 { return false }
        if !transposeA && !transposeB && alpha == 1 && beta == 0 && blockMACs < 28 * 512 * 512 { return false }
        return true
    }

    static func call(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(max(1, ldc)))
    }
}

extension BLAS {
    /// `sgemm` on whole arrays (row-major, offset 0): `c = alpha · op(a) · op(b) + beta · c`.
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: [Float], b: [Float], beta: Float = 0, c: inout [Float]
    ) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "sgemm: operand too small")
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                c.withUnsafeMutableBufferPointer { cb in
                    guard let ap = ab.baseAddress, let bp = bb.baseAddress, let cp = cb.baseAddress else { return }
                    sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: ap, b: bp,
                        beta: beta, c: cp)
                }
            }
        }
    }
}
