// SubmissionDesk: a lab's answers to SUBMIT and UPLOAD — the files a sweep lacks, its problems, or the sweep accepted.
import AblateSupport
import Foundation
import RunSpec
import WireProtocol

/// What a SUBMIT comes to.
public enum SubmitDecision: Equatable {
    /// Files to upload first, by SHA-256 (sorted, each once).
    case missing([String])
    /// Why the sweep is not taken: its problems, one line each (`FILE:LINE: KEY: MESSAGE`).
    case refused([String])
    /// The sweep to serve, and the count of cells it plans.
    case accepted(Submission, cells: Int)

    /// The SUBMIT_REPLY that says so; `chunkBytes` is the largest UPLOAD payload the lab accepts.
    public func reply(requestId: String, chunkBytes: Int) -> SubmitReply {
        switch self {
        case .missing(let missing):
            let files = missing.count == 1 ? "1 file" : "\(missing.count) files"
            return SubmitReply(
                requestId: requestId, ok: false, error: "\(files) to upload first", missing: missing,
                chunkBytes: chunkBytes)
        case .refused(let problems):
            let error =
                problems.count == 1
                ? problems[0] : "the sweep has \(problems.count) problems"
            return SubmitReply(requestId: requestId, ok: false, error: error, problems: problems)
        case .accepted(let submission, let cells):
            return SubmitReply(requestId: requestId, ok: true, sweep: submission.name, cells: cells)
        }
    }
}

/// The coordinator-side logic of `ablate submit`, without sockets: the lab's server loop passes it each UPLOAD and
/// SUBMIT (from client keys, or loopback without CURVE: the loop refuses worker keys before calling) and sends back
/// what it returns. On `.accepted` the loop writes the submission (`Submission.write`) to `LAB/sweeps/<name>/` and
/// opens it with `CoordinatorSetup.prepare(submission:…)`.
public final class SubmissionDesk {
    public let labDirectory: String
    public let uploads: UploadStore
    private let checkStage1: ((String) throws -> TrainingConfig)?

    /// - Parameter checkStage1: the trainer's check of a stage-1 checkpoint (`Checkpoint.checkStage1`); nil skips
    ///   loading the backbone at submission (`prepare` still does).
    public init(
        labDirectory: String, uploads: UploadStore, checkStage1: ((String) throws -> TrainingConfig)? = nil
    ) {
        self.labDirectory = labDirectory
        self.uploads = uploads
        self.checkStage1 = checkStage1
    }

    /// One UPLOAD (`UploadStore.receive`).
    public func upload(_ upload: Upload) -> UploadAck { uploads.receive(upload) }

    /// Validates a SUBMIT: parses the sweep text with its files mapped to uploads (every problem at once), checks the
    /// name is not already served (`existing`), and that every file is present (else `.missing`); then materialises
    /// its directory inputs from their archives and runs every check `ablate coordinator` makes (dataset, stage-1
    /// checkpoint, code records, inputs, plan).
    /// - Parameters:
    ///   - client: who sends it: the key's name (`clients/alice`) or `loopback`; a worker key is refused.
    ///   - existing: the names of the sweeps the lab serves.
    public func submit(_ request: SubmitRequest, client: String, existing: Set<String>, now: Double) -> SubmitDecision {
        if client.hasPrefix("workers/") {
            return .refused(["key \(client) may not submit: only keys in clients/ may"])
        }
        let parsed: Sweep
        do { parsed = try SubmissionPaths.parse(text: request.sweepText, sourceName: request.sourceName) } catch {
            return .refused(Self.lines(error))
        }
        var problems: [String] = []
        if let problem = PeerNames.nameProblem(parsed.name) {
            problems.append("\(request.sourceName): name \(problem)")
        } else if existing.contains(parsed.name) {
            problems.append("\(request.sourceName): a sweep named '\(parsed.name)' is served already")
        }
        var byPath: [String: SubmitFile] = [:]
        for file in request.files { byPath[file.path] = file }
        var named: Set<String> = []
        var missing: Set<String> = []
        var files: [String: String] = [:]
        for path in SubmissionPaths.paths(of: parsed) {
            let key = SubmissionPaths.key(ofParsed: path.path)
            named.insert(key)
            let place = Self.place(request.sourceName, path.location)
            guard let file = byPath[key] else {
                problems.append("\(place)'\(key)' is not among the submitted files")
                continue
            }
            if case .input = path.role {
            } else if file.kind == .archive {
                problems.append("\(place)'\(key)' is a directory; a file is needed here")
                continue
            }
            switch file.kind {
            case .file:
                if !uploads.has(file.sha256, size: file.size) { missing.insert(file.sha256) }
                files[key] = file.sha256
            case .archive:
                guard let manifest = file.manifestSha256 else { continue }
                if !uploads.hasTree(manifest), !uploads.has(file.sha256, size: file.size) {
                    missing.insert(file.sha256)
                }
                files[key] = manifest
            }
        }
        for file in request.files where !named.contains(file.path) {
            problems.append("\(request.sourceName): files: '\(file.path)' is not a path the sweep names")
        }
        guard problems.isEmpty else { return .refused(problems) }
        guard missing.isEmpty else { return .missing(missing.sorted()) }
        for file in request.files where file.kind == .archive {
            guard let manifest = file.manifestSha256 else { continue }
            do { try uploads.materialise(archive: file.sha256, manifest: manifest) } catch {
                return .refused(["\(request.sourceName): \(file.path): \(error)"])
            }
        }
        let submission = Submission(
            name: parsed.name, text: request.sweepText, sourceName: request.sourceName, files: files,
            code: request.code.map { $0.mapValues(Self.record) }, priority: request.priority ?? parsed.priority,
            submitter: client,
            submittedAt: now)
        do {
            let check = try SubmissionCheck.run(
                submission, uploads: uploads, checkStage1: checkStage1, allProblems: true)
            return .accepted(submission, cells: check.plan.cells.count)
        } catch {
            return .refused(Self.lines(error))
        }
    }

    /// The code record a SUBMIT carries, as the ledger keeps it (its hash as sent: `SubmissionCheck` verifies it).
    static func record(_ code: SubmitCode) -> CodeRecord {
        var record = CodeRecord(
            files: code.files.map { CodeFile(path: $0.path, sha256: $0.sha256) }, commit: code.commit,
            dirty: code.dirty)
        record.sha256 = code.sha256
        return record
    }

    /// `FILE:LINE: ` for a place in the sweep, `FILE: ` without one.
    private static func place(_ source: String, _ location: SweepKeyLocation?) -> String {
        guard let location, location.line > 0 else { return "\(source): " }
        return "\(source):\(location.line): \(location.key): "
    }

    /// An error as problem lines a SUBMIT_REPLY may carry: each printable, cut to fit, at most as many as allowed.
    static func lines(_ error: any Error) -> [String] {
        let text = (error as? SweepError)?.description ?? "\(error)"
        let lines = text.split(separator: "\n").map { PrintableText.oneLine(String($0), limit: 1000) }
        return Array(lines.prefix(FieldLimits.maxSubmitProblems))
    }
}
