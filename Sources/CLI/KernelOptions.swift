// KernelOptions: the `--kernel` option (train, worker, local, bench train) that picks the own GEMM kernel path.
import ArgumentParser
import NN

/// `--kernel avx512|avx2|scalar`: the path of Ablate's own GEMM every product runs on (default: the fastest this
/// CPU supports). The paths give the same bits, so the choice changes speed only; it is recorded with each run.
struct KernelOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "GEMM kernel: avx512, avx2 or scalar (default: the fastest supported; results do not depend on it).",
            valueName: "path"))
    var kernel: String?

    /// The chosen path; `--kernel`'s value when it names one this machine supports.
    var chosen: GEMMKernel {
        get throws {
            guard let kernel else { return GEMMKernel.best }
            switch GEMMKernel.parse(kernel) {
            case .success(let path): return path
            case .failure(let error): throw ValidationError("--kernel: \(error.message)")
            }
        }
    }

    /// Refuses an unknown or unsupported path (a usage error: one line, exit 64).
    func validate() throws { _ = try chosen }

    /// Makes the chosen path the process's own (after `validate`).
    func apply() throws { GEMMKernel.select(try chosen) }

    /// `--kernel` and its value for a child `ablate` process, when one was given.
    var arguments: [String] { kernel.map { ["--kernel", $0] } ?? [] }
}
