// HDF5Executor: the single serial executor on which every HDF5 call in the process runs.
import CHDF5
import Dispatch

/// Serialises all HDF5 calls of the process on one queue (HDF5's state is process-global).
///
/// `sync` is re-entrant: a call made while already on the executor runs inline. `run` is the entry
/// for async code: it hops off the cooperative thread pool onto the executor's queue.
public final class HDF5Executor: Sendable {
    /// The process-wide executor.
    public static let shared = HDF5Executor()

    private let queue = DispatchQueue(label: "ablate.hdf5.serial")
    private let key = DispatchSpecificKey<UInt8>()

    private init() {
        queue.setSpecific(key: key, value: 1)
    }

    /// True when the caller is already running on the executor.
    public var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == 1 }

    /// Runs `body` on the executor and waits for it. Must not be called from the cooperative pool.
    public func sync<T>(_ body: () throws -> T) rethrows -> T {
        if isCurrent { return try body() }
        return try queue.sync {
            // HDF5's error-printing setting is per thread in thread-safe builds: silence it on every entry.
            _ = ablate_h5_silence_errors()
            return try body()
        }
    }

    /// Runs `body` on the executor from async code without blocking a cooperative-pool thread.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                _ = ablate_h5_silence_errors()
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// The linked HDF5 library version, e.g. `1.10.8`.
    public static var libraryVersion: String {
        var major: UInt32 = 0
        var minor: UInt32 = 0
        var release: UInt32 = 0
        shared.sync { ablate_h5_version(&major, &minor, &release) }
        return "\(major).\(minor).\(release)"
    }
}
