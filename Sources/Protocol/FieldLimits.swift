// FieldLimits: the largest lists, texts and file sizes a decoded header may carry (docs/protocol.md, "Limits").

/// Limits on the content of headers, checked at decode time after the frame sizes (`FrameLimits`). A header over
/// any of them is refused as malformed: the receiver never sizes a loop, a file or a reply by an unchecked number.
public enum FieldLimits {
    /// Most slots a HELLO may announce, and most jobs a HELLO's `resuming` or a HEARTBEAT's `progress` may list.
    public static let maxJobsPerWorker = 256
    /// Most rows a job's progress may count in a phase (`rows_total`, `rows_done`): 2^40.
    public static let maxRows = 1 << 40
    /// Most lines in one LOG message.
    public static let maxLogLines = 500
    /// Longest LOG line, in UTF-8 bytes (without its newline).
    public static let maxLogLineBytes = 4096
    /// Most text in one LOG message: the lines' UTF-8 bytes plus one per line (its newline).
    public static let maxLogBytes = 128 * 1024
    /// Largest file a worker may offer or stream (OFFER `file.size`, DONE `files[].size`, CHUNK total size): 64 GiB.
    public static let maxFileBytes: Int64 = 64 << 30
    /// Most params in an ASSIGN's `params` object.
    public static let maxParams = 256
    /// Longest param name, in characters (ASCII letters, digits and `_`, not starting with a digit).
    public static let maxParamNameLength = 64
    /// Most text in an ASSIGN's `params`, in UTF-8 bytes.
    public static let maxParamsBytes = 64 * 1024

    /// Most cell ids (or prefixes) one CONTROL `retry` may name.
    public static let maxControlCells = 1000
    /// Most seeds one CONTROL `extend` may add.
    public static let maxControlSeeds = 100
    /// Longest CONTROL `request_id`, in bytes.
    public static let maxRequestIDBytes = 64
    /// Most cells one CONTROL_REPLY may list (`cells` and `existing` together) and most sweeps it may list.
    public static let maxControlReplyCells = 100_000
    /// The largest report file a coordinator hands out for FETCH (`report` action): 64 MiB.
    public static let maxReportBytes: Int64 = 64 << 20

    /// Longest SUBMIT `sweep_text`, in UTF-8 bytes: 512 KiB, so that a SUBMIT with its escaping and file list fits
    /// in one JSON header (`FrameLimits.defaultJSONBytes`, 1 MiB).
    public static let maxSweepTextBytes = 512 * 1024
    /// Most files one SUBMIT may list.
    public static let maxSubmitFiles = 256
    /// Longest SUBMIT `source_name`, `files[].path` and code file path, in UTF-8 bytes.
    public static let maxSubmitPathBytes = 4096
    /// Largest file a client may upload (SUBMIT `files[].size`, UPLOAD total size): 1 TiB.
    public static let maxUploadBytes: Int64 = 1 << 40
    /// SUBMIT `priority`: −1000 … 1000.
    public static let submitPriorities = -1000...1000
    /// Most variants with code in one SUBMIT.
    public static let maxSubmitCodeVariants = 1000
    /// Most files one variant's code may list (as `CodeFiles.maximumFiles`).
    public static let maxSubmitCodeFiles = 10_000
    /// Most problem lines one SUBMIT_REPLY may carry, and the longest of them in UTF-8 bytes.
    public static let maxSubmitProblems = 1000
    public static let maxSubmitProblemBytes = 4096
    /// Longest SUBMIT_REPLY `error` and UPLOAD_ACK `reason`, in UTF-8 bytes.
    public static let maxReasonBytes = 4096

    /// The UTF-8 bytes `lines` take in an attempt log (each line plus its newline).
    public static func logBytes(_ lines: [String]) -> Int {
        lines.reduce(0) { $0 + $1.utf8.count + 1 }
    }
}
