// MessageValidation: the field checks a decoded header must pass (names, hex ids, counters, sizes, list lengths).

/// Checks of decoded messages beyond their shape: cell ids and SHA-256s are 64 lower-case hex digits, file names
/// and labels follow `PeerNames`, counters and sizes are not negative, timing and transfer settings are positive,
/// and lists, texts and file sizes stay within `FieldLimits`.
enum MessageValidation {
    static func check(_ message: Message, limits: FrameLimits) throws(DecodeError) {
        var fields = FieldChecker(command: message.command)
        switch message {
        case .hello(let hello):
            fields.label(hello.worker, "worker", allowEmpty: false)
            fields.label(hello.incarnation, "incarnation", allowEmpty: false)
            fields.label(hello.host, "host", allowEmpty: true)
            fields.label(hello.codeVersion, "code_version", allowEmpty: true)
            fields.label(hello.blasCore, "blas_core", allowEmpty: true)
            fields.atLeast(hello.threads, 0, "threads")
            fields.within(hello.slots, 0...FieldLimits.maxJobsPerWorker, "slots")
            fields.count(hello.resuming.count, FieldLimits.maxJobsPerWorker, "resuming")
            for (index, job) in hello.resuming.enumerated() { fields.job(job, "resuming[\(index)]") }
            if let label = hello.label { fields.workerLabel(label, "label") }
            if let gpus = hello.gpus { fields.gpus(gpus) }
        case .welcome(let welcome):
            fields.atLeast(welcome.heartbeatMs, 1, "heartbeat_ms")
            fields.atLeast(welcome.liveness, 1, "liveness")
            fields.atLeast(welcome.chunkBytes, 1, "chunk_bytes")
            fields.atLeast(welcome.window, 1, "window")
        case .heartbeat(let heartbeat):
            fields.count(heartbeat.progress.count, FieldLimits.maxJobsPerWorker, "progress")
            for (index, job) in heartbeat.progress.enumerated() { fields.job(job, "progress[\(index)]") }
        case .assign(let assign):
            fields.cell(assign.cell, assign.attempt)
            if let dataset = assign.dataset { fields.artifact(dataset, "dataset") }
            if let stage1 = assign.stage1 { fields.artifact(stage1, "stage1") }
            if let resume = assign.resume { fields.artifact(resume, "resume") }
            if let timeout = assign.timeoutSeconds, !(timeout > 0) {
                fields.invalid("timeout_seconds", "must be a positive number of seconds")
            }
            if let params = assign.params { fields.params(params) }
            fields.execution(assign)
            if let inputs = assign.inputs { fields.inputs(inputs) }
        case .metricsAck(let ack):
            fields.cell(ack.cell, ack.attempt)
            fields.atLeast(ack.seq, 0, "seq")
        case .offer(let offer):
            fields.cell(offer.cell, offer.attempt)
            fields.atLeast(offer.epoch, 0, "epoch")
            fields.artifact(offer.file, "file", fromWorker: true)
        case .credit(let credit):
            fields.digest(credit.sha256, "sha256")
            fields.atLeast(credit.offset, 0, "offset")
            fields.atLeast(credit.chunks, 0, "chunks")
        case .stored(let stored): fields.digest(stored.sha256, "sha256")
        case .fetch(let fetch):
            fields.digest(fetch.sha256, "sha256")
            fields.atLeast(fetch.offset, 0, "offset")
            fields.within(fetch.length, 1...max(1, limits.maxChunkBytes), "length")
        case .fetchError(let error): fields.digest(error.sha256, "sha256")
        case .done(let done):
            fields.cell(done.cell, done.attempt)
            for (index, file) in done.files.enumerated() { fields.artifact(file, "files[\(index)]", fromWorker: true) }
        case .doneAck(let ack): fields.cell(ack.cell, ack.attempt)
        case .failed(let failed): fields.cell(failed.cell, failed.attempt)
        case .cancel(let cancel): fields.cell(cancel.cell, cancel.attempt)
        case .release(let release): fields.cell(release.cell, release.attempt)
        case .log(let log):
            fields.cell(log.cell, log.attempt)
            fields.logLines(log.lines)
        case .statusReply(let reply):
            for (index, row) in reply.rows.enumerated() {
                fields.digest(row.cell, "rows[\(index)].cell")
                if let label = row.workerLabel { fields.workerLabel(label, "rows[\(index)].worker_label") }
            }
            for (index, worker) in (reply.workers ?? []).enumerated() { fields.statusWorker(worker, index) }
            if let sweeps = reply.sweeps {
                if sweeps.count > FieldLimits.maxControlReplyCells {
                    fields.failLimit("more than \(FieldLimits.maxControlReplyCells) sweeps")
                }
                for (index, name) in sweeps.enumerated() {
                    if let problem = PeerNames.nameProblem(name) {
                        fields.failName("field 'sweeps[\(index)]' \(problem)")
                    }
                }
            }
        case .statusRequest(let request):
            if let name = request.sweep, let problem = PeerNames.nameProblem(name) {
                fields.failName("field 'sweep' \(problem)")
            }
        case .chunk(let chunk):
            fields.fileSize(chunk.totalSize, "total size")
        case .control(let request): fields.control(request)
        case .controlReply(let reply): fields.controlReply(reply)
        case .submit(let request): fields.submit(request)
        case .submitReply(let reply): fields.submitReply(reply)
        case .upload(let upload): fields.upload(upload)
        case .uploadAck(let ack): fields.uploadAck(ack)
        case .metrics, .data, .disconnect: break
        }
        if let problem = fields.problem { throw problem }
    }
}

/// Collects the first failed field check of one message.
struct FieldChecker {
    let command: Command
    private(set) var problem: DecodeError?

    init(command: Command) { self.command = command }

    mutating func fail(_ text: String) {
        if problem == nil { problem = .malformedHeader("\(command.wireName) header: \(text)") }
    }

    mutating func failName(_ text: String) {
        if problem == nil { problem = .invalidName("\(command.wireName) header: \(text)") }
    }

    mutating func failLimit(_ text: String) {
        if problem == nil { problem = .overLimit("\(command.wireName) header: \(text)") }
    }

    mutating func invalid(_ field: String, _ why: String) { fail("field '\(field)' \(why)") }

    mutating func digest(_ value: String, _ field: String) {
        if !Hex.isDigest(value) { fail("field '\(field)' is not 64 lower-case hex digits") }
    }

    mutating func fileName(_ name: String, _ field: String) {
        if let problem = PeerNames.fileNameProblem(name) { failName("field '\(field)' \(problem)") }
    }

    mutating func label(_ text: String, _ field: String, allowEmpty: Bool) {
        if let problem = PeerNames.labelProblem(text, allowEmpty: allowEmpty) {
            failName("field '\(field)' \(problem)")
        }
    }

    mutating func workerLabel(_ text: String, _ field: String) {
        if let problem = WorkerLabel.problem(text) { failName("field '\(field)' \(problem)") }
    }

    mutating func count(_ count: Int, _ maximum: Int, _ field: String) {
        if count > maximum { failLimit("field '\(field)' lists \(count) entries, more than \(maximum)") }
    }

    mutating func logLines(_ lines: [String]) {
        count(lines.count, FieldLimits.maxLogLines, "lines")
        if let index = lines.firstIndex(where: { $0.utf8.count > FieldLimits.maxLogLineBytes }) {
            failLimit(
                "field 'lines[\(index)]' is \(lines[index].utf8.count) bytes, longer than \(FieldLimits.maxLogLineBytes)"
            )
        }
        let total = FieldLimits.logBytes(lines)
        if total > FieldLimits.maxLogBytes {
            failLimit("field 'lines' holds \(total) bytes, more than \(FieldLimits.maxLogBytes)")
        }
    }

    mutating func atLeast<T: BinaryInteger>(_ value: T, _ minimum: T, _ field: String) {
        if value < minimum { fail("field '\(field)' is \(value), must be at least \(minimum)") }
    }

    mutating func within(_ value: Int, _ range: ClosedRange<Int>, _ field: String) {
        if !range.contains(value) {
            fail("field '\(field)' is \(value), must be in \(range.lowerBound)...\(range.upperBound)")
        }
    }

    mutating func cell(_ cell: String, _ attempt: Int, prefix: String = "") {
        if !PeerNames.isCellID(cell) { fail("field '\(prefix)cell' is not 64 lower-case hex digits") }
        atLeast(attempt, 0, prefix + "attempt")
    }

    mutating func job(_ job: JobProgress, _ field: String) {
        cell(job.cell, job.attempt, prefix: field + ".")
        atLeast(job.epoch, 0, field + ".epoch")
        let phaseFields = [job.phase != nil, job.rowsDone != nil, job.rowsTotal != nil]
        if phaseFields.contains(true), phaseFields.contains(false) {
            fail("field '\(field)' gives some of phase, rows_done and rows_total: all three or none")
        }
        if let done = job.rowsDone, let total = job.rowsTotal {
            within(total, 0...FieldLimits.maxRows, field + ".rows_total")
            within(done, 0...max(0, min(total, FieldLimits.maxRows)), field + ".rows_done")
        }
        if let rate = job.rowsPerSecond, !(rate.isFinite && rate >= 0 && rate <= 1e12) {
            fail("field '\(field).rows_per_second' is \(rate), must be a finite number in 0...1e12")
        }
    }

    /// An artifact reference; one a worker sends (`fromWorker`) may not be larger than `FieldLimits.maxFileBytes`.
    mutating func artifact(_ ref: ArtifactRef, _ field: String, fromWorker: Bool = false) {
        fileName(ref.name, field + ".name")
        digest(ref.sha256, field + ".sha256")
        atLeast(ref.size, 0, field + ".size")
        if fromWorker { fileSize(ref.size, field + ".size") }
    }

    /// ASSIGN's `params`: within `FieldLimits`' size and count, well-formed names, scalar or flat-list values.
    mutating func params(_ text: String) {
        if text.utf8.count > FieldLimits.maxParamsBytes {
            failLimit("field 'params' holds \(text.utf8.count) bytes, more than \(FieldLimits.maxParamsBytes)")
            return
        }
        switch ParamsField.check(text) {
        case .valid: break
        case .tooMany(let number): count(number, FieldLimits.maxParams, "params")
        case .badName(let problem): failName("field 'params' \(problem)")
        case .malformed(let problem): fail("field 'params' \(problem)")
        }
    }

    /// ASSIGN's `inputs` (`InputsField`): names, hashes and the artifacts they are fetched as.
    mutating func inputs(_ inputs: [InputRef]) {
        count(inputs.count, FieldLimits.maxInputs, "inputs")
        for (index, input) in inputs.enumerated() {
            artifact(input.artifact, "inputs[\(index)].artifact")
            fileSize(input.artifact.size, "inputs[\(index)].artifact.size")
        }
        if let problem = InputsField.problem(inputs) {
            if problem.contains(".name") {
                failName("field 'inputs\(problem)")
            } else {
                fail("field 'inputs\(problem)")
            }
        }
    }

    /// ASSIGN's execution settings (`ExecutionField`): `env` names and values, `workdir`, `resume_file`, `checkpoints`.
    mutating func execution(_ assign: Assign) {
        if let env = assign.env {
            count(env.count, FieldLimits.maxEnvironmentEntries, "env")
            for name in env.keys.sorted() {
                if let problem = ExecutionField.environmentNameProblem(name) {
                    failName("field 'env' name '\(PrintableText.oneLine(name, limit: 80))' \(problem)")
                } else if let problem = env[name].flatMap(ExecutionField.environmentValueProblem) {
                    failLimit("field 'env.\(name)' \(problem)")
                }
            }
        }
        if let workdir = assign.workdir, let problem = ExecutionField.workdirProblem(workdir) {
            failName("field 'workdir' \(problem)")
        }
        if let file = assign.resumeFile, let problem = ExecutionField.outputPathProblem(file, pattern: false) {
            failName("field 'resume_file' \(problem)")
        }
        if let patterns = assign.checkpoints, let problem = ExecutionField.checkpointsProblem(patterns) {
            failName("field 'checkpoints' \(problem)")
        }
        if let metric = assign.metric, let problem = MetricKey.problem(metric) {
            failName("field 'metric' \(problem)")
        }
    }

    /// HELLO's `gpus` (`ExecutionField.gpusProblem`).
    mutating func gpus(_ gpus: [Int], field: String = "gpus") {
        if let problem = ExecutionField.gpusProblem(gpus) { fail("field '\(field)' \(problem)") }
    }

    /// One of STATUS_REPLY's `workers`: the rules of the HELLO it comes from, and a cell count ≥ 0.
    mutating func statusWorker(_ worker: StatusReply.Worker, _ index: Int) {
        let field = "workers[\(index)]"
        label(worker.worker, field + ".worker", allowEmpty: false)
        label(worker.host, field + ".host", allowEmpty: true)
        within(worker.slots, 0...FieldLimits.maxJobsPerWorker, field + ".slots")
        if let gpus = worker.gpus { self.gpus(gpus, field: field + ".gpus") }
        atLeast(worker.cells, 0, field + ".cells")
        if let label = worker.label { workerLabel(label, field + ".label") }
    }

    mutating func fileSize(_ size: Int64, _ field: String) {
        if size > FieldLimits.maxFileBytes {
            failLimit("field '\(field)' is \(size) bytes, more than the largest file (\(FieldLimits.maxFileBytes))")
        }
    }
}
