// SampleMessages: one valid message of every command, shared by the codec tests.
import WireProtocol

enum Samples {
    static let cell = String(repeating: "0123456789abcdef", count: 4)
    static let otherCell = String(repeating: "fedcba9876543210", count: 4)
    static let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let dataset = ArtifactRef(name: "dataset.h5", sha256: sha, size: 1_234_567)
    static let record = #"{"epoch":3,"val_macro_f1":0.5}"#

    static let metrics = MetricsReport(
        cell: cell, attempt: 2, seq: 3, epoch: 3, valMacroF1: 0.5, valLoss: 1.25, trainLoss: 0.75, seconds: 12.5,
        record: record)
    static let chunk = FileChunk(sha256: sha, offset: 262_144, totalSize: 600_000, payload: [1, 2, 3, 4, 5])

    /// One message per command, in command order.
    static let all: [Message] = [
        .hello(
            Hello(
                worker: "host-gpu0", incarnation: "9f2c", host: "host", threads: 8, gpu: 0, slots: 2,
                codeVersion: "0.1.0", blasCore: "Haswell", resuming: [JobProgress(cell: cell, attempt: 1, epoch: 4)])),
        .welcome(
            Welcome(
                session: "s-1", coordinatorIncarnation: "c-7", heartbeatMs: 1000, liveness: 5, chunkBytes: 262_144,
                window: 4)),
        .heartbeat(Heartbeat(progress: [JobProgress(cell: cell, attempt: 1, epoch: 3)])),
        .assign(
            Assign(
                cell: cell, attempt: 1, variant: "baseline", seed: UInt64.max, config: #"{"epochs":30}"#,
                dataset: dataset, stage1: ArtifactRef(name: "stage1.h5", sha256: sha, size: 10), resume: nil,
                command: ["python", "train.py", "--seed", "7"], timeoutSeconds: 3600)),
        .metrics(metrics),
        .metricsAck(MetricsAck(cell: cell, attempt: 2, seq: 3)),
        .offer(Offer(cell: cell, attempt: 2, epoch: 3, file: ArtifactRef(name: "last.h5", sha256: sha, size: 600_000))),
        .credit(Credit(sha256: sha, offset: 262_144, chunks: 4)),
        .chunk(chunk),
        .stored(Stored(sha256: sha, status: .hashMismatch)),
        .fetch(Fetch(sha256: sha, offset: 0, length: 262_144)),
        .data(FileChunk(sha256: sha, offset: 0, totalSize: 3, payload: [9, 8, 7])),
        .fetchError(FetchError(sha256: sha, reason: "unknown artifact")),
        .done(Done(cell: cell, attempt: 2, summary: #"{"best_epoch":3}"#, files: [dataset])),
        .doneAck(DoneAck(cell: cell, attempt: 2, status: .missingFiles)),
        .failed(Failed(cell: cell, attempt: 2, reason: "diverged: loss is NaN", deterministic: true)),
        .cancel(Cancel(cell: otherCell, attempt: 1, reason: "reassigned")),
        .disconnect(Disconnect(reason: "unknown session")),
        .statusRequest(StatusRequest()),
        .statusReply(
            StatusReply(
                sweep: "demo",
                rows: [
                    StatusReply.Row(
                        cell: cell, variant: "baseline", seed: 1, stage: "stage2", state: "running",
                        worker: "host-gpu0",
                        attempt: 1, epoch: 3, epochs: 30, bestValMacroF1: 0.5, etaSeconds: 120),
                    StatusReply.Row(
                        cell: otherCell, variant: "no-aux", seed: 2, stage: "stage2", state: "pending", worker: nil,
                        attempt: 0, epoch: 0, epochs: 30, bestValMacroF1: nil, etaSeconds: nil),
                ])),
        .release(Release(cell: cell, attempt: 2, reason: "worker stopping")),
        .log(LogLines(cell: cell, attempt: 2, lines: ["epoch 1: loss 0.5", "", "warning: \u{1B}[1mbold\u{1B}[0m"])),
        .control(
            ControlRequest(requestId: "a1b2", sweep: "mnist-ablation", action: .extend, variant: "b", seeds: [45, 46])),
        .controlReply(
            ControlReply(
                requestId: "a1b2", ok: true,
                result: ControlResult(
                    message: "extended", cells: [ControlCell(id: cell, variant: "b", seed: 45, state: "pending")],
                    existing: [], cancelledVariants: ["a"]))),
        .submit(
            SubmitRequest(
                requestId: "s1", sweepText: "name: s\n", sourceName: "sweeps/s.yaml", priority: 5,
                files: [
                    SubmitFile(path: "data/train.h5", sha256: sha, size: 600_000, kind: .file),
                    SubmitFile(
                        path: "/shared/vocab", sha256: cell, size: 42, kind: .archive, manifestSha256: otherCell),
                ],
                code: ["b": SubmitCode(sha256: cell, files: [SubmitCodeFile(path: "train.py", sha256: sha)])])),
        .submitReply(SubmitReply(requestId: "s1", ok: true, sweep: "s", cells: 12)),
        .upload(FileChunk(sha256: sha, offset: 0, totalSize: 5, payload: [1, 2, 3, 4, 5])),
        .uploadAck(UploadAck(sha256: sha, nextOffset: 5, status: .complete)),
    ]
}
