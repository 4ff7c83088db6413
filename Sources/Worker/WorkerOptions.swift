// WorkerOptions: the settings of a worker process, from `ablate worker`'s options.
import WireProtocol

/// Settings of a worker process.
public struct WorkerOptions: Sendable {
    public var endpoint: String
    public var name: String
    public var workDirectory: String
    public var threads: Int = 1
    public var gpu: Int?
    public var slots: Int = 1
    public var codeVersion = "dev"
    /// Sent in HELLO and shown by `ablate status` next to the name (`--label`, e.g. `slurm:1234_5`); nil: none.
    public var label: String?
    /// Prefix caches (nil = under the work directory).
    public var cacheDirectory: String?
    /// CURVE keys for the connection (nil: plaintext).
    public var curve: CurveClientKeys?
    /// Seconds a stop may take to cancel training, flush what was produced and release the cells.
    public var stopTimeout: Double = 30
    /// Least seconds between two epochs whose checkpoint files are streamed (`CheckpointCadence`): the first and
    /// last epochs' always go, METRICS every epoch. 0 streams every epoch's files.
    public var checkpointInterval: Double = 10
    /// GPUs of `--gpus`: each command job is pinned to one of them, the least loaded (`slotsPerGPU` jobs each at
    /// most). Empty: every job uses `gpu` (or none).
    public var gpus: [Int] = []
    /// Command jobs per GPU of `gpus` (`--slots-per-gpu`): `slots` is `gpus.count` × this, and each job is pinned to
    /// the least-loaded GPU (`WorkerCore.gpuForNewCommand`).
    public var slotsPerGPU = 1
    /// The `ablate` executable whose `exec-guard` starts user commands so that they die with this process; nil
    /// starts them directly (see `CommandJobSpec.execGuard`).
    public var execGuard: String?
    /// End `run` once the coordinator says the sweep is finished (`--exit-when-finished`); otherwise the worker stays,
    /// connected to a coordinator that keeps serving or waiting for the next one.
    public var exitWhenFinished = false
    /// End `run` after this many seconds without a job (`--exit-when-idle`), connected or not: a worker that started
    /// after its coordinator ended, or for which no cell is left, gives its allocation back. nil: never.
    public var exitWhenIdle: Double?
    /// Fault injection for the end-to-end tests (the hidden `--fault-corrupt-first-chunk`): flip one byte of the
    /// first CHUNK queued, so that the coordinator's hash check fails once and the file is sent again.
    public var corruptFirstChunk = false

    public init(endpoint: String, name: String, workDirectory: String) {
        self.endpoint = endpoint
        self.name = name
        self.workDirectory = workDirectory
    }
}
