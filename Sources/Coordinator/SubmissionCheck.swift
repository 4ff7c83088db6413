// SubmissionCheck: a stored submission's sweep resolved to this host's files and checked (`SweepCheck`).
import Foundation
import RunSpec

/// The checks of a submission: its sweep with the paths this host has (`SubmissionPaths.sweep(of:uploads:)`), its
/// code — hashed here from the working directory for a local submission, the client's records for a remote one —
/// and then every check `ablate coordinator` makes of a sweep file (`SweepCheck`).
public enum SubmissionCheck {
    /// - Parameter allProblems: as `SweepCheck.run`: every check's problems at once, or the first failing one's.
    /// - Throws: `SweepError` with the sweep's problems and those of its files and code.
    public static func run(
        _ submission: Submission, uploads: UploadStore, checkStage1: ((String) throws -> TrainingConfig)?,
        allProblems: Bool = false
    ) throws -> SweepCheck {
        let sweep = try SubmissionPaths.sweep(of: submission, uploads: uploads)
        let code: () throws -> [String: CodeRecord]
        if let directory = submission.workingDirectory {
            code = { try CodeFiles.records(for: sweep, sweepDirectory: directory) }
        } else {
            code = { try records(submission.code ?? [:], of: sweep) }
        }
        return try SweepCheck.run(sweep, code: code, checkStage1: checkStage1, allProblems: allProblems)
    }

    /// The client's code records, checked against the sweep: each names a command variant, and its hash is the
    /// hash of its files (`CodeRecord.canonicalText`).
    /// - Throws: `SweepError` with a problem at `code.<variant>` for each record that breaks a rule.
    static func records(_ code: [String: CodeRecord], of sweep: Sweep) throws -> [String: CodeRecord] {
        var problems: [SweepProblem] = []
        for (variant, record) in code.sorted(by: { $0.key < $1.key }) {
            func problem(_ message: String) {
                problems.append(SweepProblem(line: 0, column: 0, key: "code.\(variant)", message: message))
            }
            guard sweep.variant(named: variant)?.command != nil else {
                problem("the submission gives code for a variant that does not run a command")
                continue
            }
            if CodeRecord(files: record.files).sha256 != record.sha256 || record.files.isEmpty {
                problem("the submitted code record's sha256 is not the hash of its files")
            }
        }
        guard problems.isEmpty else { throw SweepError(sourceName: sweep.sourceName, problems: problems) }
        return code
    }
}
