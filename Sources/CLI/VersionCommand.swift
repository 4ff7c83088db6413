// VersionCommand: `ablate version`, the build's version and the linked C libraries.
import ArgumentParser
import HDF5Kit
import NN
import WireProtocol

/// The version of this build.
public enum AblateVersion {
    public static let string = "0.1.0"
}

/// Prints Ablate's version and the versions and settings of the C libraries it links.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version of ablate and of the linked libraries.")

    func run() throws {
        print("ablate \(AblateVersion.string)")
        print("libzmq \(ZeroMQ.version) (curve: \(ZeroMQ.has("curve") ? "yes" : "no"))")
        print("hdf5 \(HDF5Executor.libraryVersion)")
        print(
            "gemm kernel \(GEMMKernel.selected) (supported: \(GEMMKernel.supported.map(\.rawValue).joined(separator: ", ")); "
                + "own kernels, same bits on every path and CPU; --kernel picks one)")
        let invariance =
            BLAS.kernelIsRowInvariant
            ? "row-invariant"
            : "NOT row-invariant (training does not use it)"
        print(
            "openblas core \(BLAS.coreName) (\(invariance); the plain reference for tests and benchmarks, single-threaded)"
        )
    }
}
