// SubmitMessages: SUBMIT, SUBMIT_REPLY, UPLOAD and UPLOAD_ACK, a client handing a sweep and its files to a lab.

/// How a submitted file travels: as its bytes, or a directory input as its `InputArchive`.
public enum SubmitFileKind: String, Codable, Sendable, CaseIterable {
    /// A regular file (a dataset, a stage-1 checkpoint, a file input), uploaded as it is.
    case file
    /// A directory input, uploaded as its deterministic archive; `manifest_sha256` names the tree.
    case archive
}

/// One file a submitted sweep names, known by its content (docs/protocol.md, "Submitting a sweep").
public struct SubmitFile: Codable, Sendable, Equatable {
    /// The path as the sweep names it, normalised (`SubmissionPaths` on the coordinator): relative to the sweep
    /// file's directory when below it, else absolute. A key only: never opened on the coordinator.
    public var path: String
    /// SHA-256 of the bytes uploaded (of the archive, for `archive`).
    public var sha256: String
    /// Bytes uploaded, 0 … `FieldLimits.maxUploadBytes`.
    public var size: Int64
    public var kind: SubmitFileKind
    /// `archive` only, and required there: the SHA-256 of the directory's manifest (the input's hash).
    public var manifestSha256: String?

    public init(path: String, sha256: String, size: Int64, kind: SubmitFileKind, manifestSha256: String? = nil) {
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.kind = kind
        self.manifestSha256 = manifestSha256
    }
}

/// One file of a command variant's code as the client hashed it (`CodeFile` on the wire).
public struct SubmitCodeFile: Codable, Sendable, Equatable {
    /// Relative to the sweep file's directory when below it, else absolute: a record, never opened.
    public var path: String
    public var sha256: String

    public init(path: String, sha256: String) {
        self.path = path
        self.sha256 = sha256
    }
}

/// A command variant's code identity as the client computed it (`CodeRecord` on the wire): the coordinator
/// recomputes `sha256` from `files` and refuses a record whose hash does not match.
public struct SubmitCode: Codable, Sendable, Equatable {
    public var sha256: String
    public var files: [SubmitCodeFile]
    /// 40 or 64 lower-case hex digits; absent outside a git work tree.
    public var commit: String?
    public var dirty: Bool?

    public init(sha256: String, files: [SubmitCodeFile], commit: String? = nil, dirty: Bool? = nil) {
        self.sha256 = sha256
        self.files = files
        self.commit = commit
        self.dirty = dirty
    }
}

/// Client → coordinator: run this sweep. Every field is checked at decode time (`SubmitValidation`).
public struct SubmitRequest: Codable, Sendable, Equatable {
    /// Chosen by the client (a name of at most 64 bytes) and repeated in the reply.
    public var requestId: String
    /// The sweep file's text, UTF-8, at most `FieldLimits.maxSweepTextBytes`.
    public var sweepText: String
    /// The client's name for the file, for problem lines: printable, at most `FieldLimits.maxSubmitPathBytes`.
    public var sourceName: String
    /// −1000 … 1000; absent: 0.
    public var priority: Int?
    /// Every file the sweep names, no path twice, at most `FieldLimits.maxSubmitFiles`.
    public var files: [SubmitFile]
    /// Variant name → its code; absent when no variant has code.
    public var code: [String: SubmitCode]?

    public init(
        requestId: String, sweepText: String, sourceName: String, priority: Int? = nil, files: [SubmitFile],
        code: [String: SubmitCode]? = nil
    ) {
        self.requestId = requestId
        self.sweepText = sweepText
        self.sourceName = sourceName
        self.priority = priority
        self.files = files
        self.code = code
    }
}

/// Coordinator → client: the outcome of one SUBMIT. `ok` true names the sweep accepted and its cells; `ok` false
/// comes with `error` (one line) and, as they apply, `problems` (the sweep's, one line each) or `missing` (the
/// SHA-256s of files to upload before submitting again).
public struct SubmitReply: Codable, Sendable, Equatable {
    /// The SUBMIT's.
    public var requestId: String
    public var ok: Bool
    /// `ok` false: one line saying why.
    public var error: String?
    /// `ok` false: every problem of the sweep, one line each.
    public var problems: [String]?
    /// `ok` false: the SHA-256s of the files to upload first.
    public var missing: [String]?
    /// With `missing`: the largest UPLOAD payload the coordinator accepts.
    public var chunkBytes: Int?
    /// `ok` true: the sweep accepted and the cells it plans.
    public var sweep: String?
    public var cells: Int?

    public init(
        requestId: String, ok: Bool, error: String? = nil, problems: [String]? = nil, missing: [String]? = nil,
        chunkBytes: Int? = nil, sweep: String? = nil, cells: Int? = nil
    ) {
        self.requestId = requestId
        self.ok = ok
        self.error = error
        self.problems = problems
        self.missing = missing
        self.chunkBytes = chunkBytes
        self.sweep = sweep
        self.cells = cells
    }
}

/// Client → coordinator: one piece of a file to upload. The same binary header and payload frame as CHUNK
/// (`ChunkLayout`): `sha256`, `offset`, `total_size`, the payload.
public typealias Upload = FileChunk

/// Coordinator → client: where an upload stands after one UPLOAD.
public struct UploadAck: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Send the bytes from `next_offset` on.
        case more
        /// The file is held, verified; `next_offset` is its size.
        case complete
        /// The bytes received do not hash to `sha256`; they were dropped (`next_offset` 0).
        case hashMismatch = "hash_mismatch"
        /// Not taken (too large, no room, not a client); `reason` says why.
        case refused
    }

    /// The upload's.
    public var sha256: String
    /// Where the client goes on: the bytes the coordinator holds of the upload.
    public var nextOffset: Int64
    public var status: Status
    /// One line; required with `refused`.
    public var reason: String?

    public init(sha256: String, nextOffset: Int64, status: Status, reason: String? = nil) {
        self.sha256 = sha256
        self.nextOffset = nextOffset
        self.status = status
        self.reason = reason
    }
}
