// GEMMKernel: Ablate's own GEMM kernel paths (AVX-512, AVX2+FMA, portable scalar) and the process's choice of one.
import CKernels
import Synchronization

/// The paths of Ablate's own single-precision GEMM (`Sources/CKernels`), which `BLAS.sgemm` runs every product on.
/// All three give the same bits on every CPU, because every path computes every output element by one rule:
///
///     acc = +0
///     for p in 0..<k (in that order): acc = fma(op(A)[i][p], op(B)[p][j], acc)
///     c = alpha == 1 ? acc : alpha * acc
///     if beta != 0: c = fma(beta, c_old, c)        (c_old is not read when beta is 0)
///
/// The vector paths vectorise across output columns and register-block across rows, never across `k`; blocking
/// over `k` for the caches stores the running accumulator and reloads it, never adds partial sums; edge tiles
/// finish with scalar `fmaf`, which rounds as the vector FMA does; the C target is compiled with
/// `-ffp-contract=off`. So an element's bits depend on neither its position, the product's size, the split over
/// threads, nor the CPU: the bitwise guarantees (resume, `--threads`, the frozen-prefix cache) no longer rest on
/// OpenBLAS's kernel families passing a probe.
public enum GEMMKernel: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// 8 rows × 32 columns of zmm accumulators (AVX-512F).
    case avx512
    /// 6 rows × 16 columns of ymm accumulators (AVX2 and FMA).
    case avx2
    /// Plain loops with `fmaf`; builds and runs on any CPU.
    case scalar

    /// The path's number in `ablate_kernels.h`.
    var code: Int32 {
        switch self {
        case .avx512: Int32(ABLATE_GEMM_AVX512)
        case .avx2: Int32(ABLATE_GEMM_AVX2)
        case .scalar: Int32(ABLATE_GEMM_SCALAR)
        }
    }

    /// Rows and columns of the path's register tile: `BLAS.sgemm` splits products over threads at multiples of them.
    var tile: (rows: Int, columns: Int) {
        switch self {
        case .avx512: (8, 32)
        case .avx2: (6, 16)
        case .scalar: (1, 1)
        }
    }

    public var description: String { rawValue }

    /// Whether this CPU and OS can run the path (cpuid and XCR0); `scalar` always can.
    public var isSupported: Bool { ablate_gemm_supported(code) == 1 }

    /// The paths this machine supports, fastest first.
    public static var supported: [GEMMKernel] { allCases.filter(\.isSupported) }

    /// The fastest supported path: the default.
    public static var best: GEMMKernel { supported.first ?? .scalar }

    /// The path every `BLAS.sgemm` uses (`best` until `select` is called); set once at start-up by the commands'
    /// `--kernel`, and by tests. Results do not depend on it.
    public static var selected: GEMMKernel {
        let code = selection.load(ordering: .relaxed)
        return code < 0 ? best : allCases[code]
    }

    /// Makes `kernel` the selected path; false (and no change) when the machine cannot run it.
    @discardableResult
    public static func select(_ kernel: GEMMKernel) -> Bool {
        guard kernel.isSupported, let index = allCases.firstIndex(of: kernel) else { return false }
        selection.store(index, ordering: .relaxed)
        return true
    }

    /// The parsed value of a `--kernel` option: the named path, or a one-line error naming the supported ones.
    public static func parse(_ text: String) -> Result<GEMMKernel, KernelChoiceError> {
        guard let kernel = GEMMKernel(rawValue: text.lowercased()) else {
            return .failure(KernelChoiceError(message: "unknown GEMM kernel '\(text)': \(choicesText)"))
        }
        guard kernel.isSupported else {
            return .failure(
                KernelChoiceError(message: "GEMM kernel \(kernel) is not supported on this CPU: \(choicesText)"))
        }
        return .success(kernel)
    }

    /// "choose one of …" for error lines.
    static var choicesText: String {
        "supported here: \(supported.map(\.rawValue).joined(separator: ", ")) (all: avx512, avx2, scalar)"
    }

    /// Index into `allCases` of the selected path; -1 until one is selected.
    private static let selection = Atomic<Int>(-1)
}

/// A `--kernel` value that names no path, or one this machine cannot run.
public struct KernelChoiceError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
