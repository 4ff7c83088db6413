// KernelOptions: the `--kernel` option (train, worker, local, bench train) that picks the own GEMM kernel path.
import ArgumentParser
import Foundation
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
    var chosen: Result<GEMMKernel, KernelChoiceError> {
        guard let kernel else { return .success(GEMMKernel.best) }
        return GEMMKernel.parse(kernel)
    }

    /// Refuses an unknown or unsupported path: one line on standard error, exit 64, before anything starts.
    func validate() throws {
        if case .failure(let error) = chosen {
            FileHandle.standardError.write(Data("Error: --kernel: \(error.message)\n".utf8))
            throw ExitCode(64)
        }
    }

    /// Makes the chosen path the process's own (after `validate`).
    func apply() throws {
        try validate()
        if case .success(let path) = chosen { GEMMKernel.select(path) }
    }

    /// `--kernel` and its value for a child `ablate` process, when one was given.
    var arguments: [String] { kernel.map { ["--kernel", $0] } ?? [] }
}
