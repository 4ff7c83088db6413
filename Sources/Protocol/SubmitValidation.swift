// SubmitValidation: the decode-time rules of SUBMIT, SUBMIT_REPLY, UPLOAD and UPLOAD_ACK (names, paths, hashes, limits).

/// Text a peer sends as a path or a problem line: not empty, at most `maxBytes` of UTF-8, no control character
/// (U+0000–U+001F, U+007F–U+009F): printable on one line, and without NUL.
public enum SubmitText {
    /// Why `text` breaks the rule, or nil when it passes.
    public static func problem(_ text: String, maxBytes: Int, allowEmpty: Bool = false) -> String? {
        let count = text.utf8.count
        if count == 0, !allowEmpty { return "is empty" }
        if count > maxBytes { return "is \(count) bytes, longer than \(maxBytes)" }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            return "contains a control character"
        }
        return nil
    }

    /// Whether `text` is a git commit: 40 or 64 lower-case hex digits.
    public static func isCommit(_ text: String) -> Bool {
        let bytes = text.utf8
        return (bytes.count == 40 || bytes.count == 64)
            && bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

extension FieldChecker {
    /// SUBMIT: `request_id` a name of ≤ 64 bytes; `sweep_text` ≤ `maxSweepTextBytes`, not empty, no NUL;
    /// `source_name` printable ≤ 4096 bytes; `priority` in −1000…1000; `files` ≤ 256, each path printable ≤ 4096
    /// bytes and listed once, `sha256` hex64, `size` 0…1 TiB, `manifest_sha256` hex64 given exactly for `archive`;
    /// `code` ≤ 1000 variants (names), each with a hex64 `sha256`, 1…10,000 files (printable paths ≤ 4096 bytes,
    /// hex64 hashes, no path twice) and a `commit` of 40 or 64 hex digits when given.
    mutating func submit(_ request: SubmitRequest) {
        if let problem = PeerNames.nameProblem(request.requestId, maxBytes: FieldLimits.maxRequestIDBytes) {
            failName("field 'request_id' \(problem)")
        }
        let textBytes = request.sweepText.utf8.count
        if textBytes > FieldLimits.maxSweepTextBytes {
            failLimit("field 'sweep_text' holds \(textBytes) bytes, more than \(FieldLimits.maxSweepTextBytes)")
        } else if textBytes == 0 {
            invalid("sweep_text", "is empty")
        } else if request.sweepText.utf8.contains(0) {
            invalid("sweep_text", "contains NUL")
        }
        if let problem = SubmitText.problem(request.sourceName, maxBytes: FieldLimits.maxSubmitPathBytes) {
            failName("field 'source_name' \(problem)")
        }
        if let priority = request.priority { within(priority, FieldLimits.submitPriorities, "priority") }
        count(request.files.count, FieldLimits.maxSubmitFiles, "files")
        var paths: Set<String> = []
        for (index, file) in request.files.enumerated() {
            let field = "files[\(index)]"
            if let problem = SubmitText.problem(file.path, maxBytes: FieldLimits.maxSubmitPathBytes) {
                failName("field '\(field).path' \(problem)")
            } else if !paths.insert(file.path).inserted {
                fail("field '\(field).path' is listed twice")
            }
            digest(file.sha256, field + ".sha256")
            uploadSize(file.size, field + ".size")
            switch (file.kind, file.manifestSha256) {
            case (.archive, let manifest?): digest(manifest, field + ".manifest_sha256")
            case (.archive, nil): fail("field '\(field).manifest_sha256' is required for kind 'archive'")
            case (.file, nil): break
            case (.file, .some): fail("field '\(field).manifest_sha256' is taken by kind 'archive' only")
            }
        }
        if let code = request.code { self.code(code) }
    }

    private mutating func code(_ code: [String: SubmitCode]) {
        count(code.count, FieldLimits.maxSubmitCodeVariants, "code")
        for variant in code.keys.sorted() {
            guard let record = code[variant] else { continue }
            if let problem = PeerNames.nameProblem(variant) {
                failName("a variant name in field 'code' \(problem)")
                continue
            }
            let field = "code.\(variant)"
            digest(record.sha256, field + ".sha256")
            count(record.files.count, FieldLimits.maxSubmitCodeFiles, field + ".files")
            if record.files.isEmpty { invalid(field + ".files", "is empty") }
            var paths: Set<String> = []
            for (index, file) in record.files.enumerated() {
                if let problem = SubmitText.problem(file.path, maxBytes: FieldLimits.maxSubmitPathBytes) {
                    failName("field '\(field).files[\(index)].path' \(problem)")
                } else if !paths.insert(file.path).inserted {
                    fail("field '\(field).files[\(index)].path' is listed twice")
                }
                digest(file.sha256, "\(field).files[\(index)].sha256")
            }
            if let commit = record.commit, !SubmitText.isCommit(commit) {
                invalid(field + ".commit", "is not 40 or 64 lower-case hex digits")
            }
        }
    }

    /// SUBMIT_REPLY: `request_id` a name; `ok` true takes `sweep` (a name) and `cells` ≥ 0 and none of `error`,
    /// `problems`, `missing`; `ok` false takes an `error` (printable, ≤ 4096 bytes) and no `sweep` or `cells`;
    /// `problems` ≤ 1000 lines of ≤ 4096 bytes; `missing` ≤ 256 distinct hex64; `chunk_bytes` ≥ 1.
    mutating func submitReply(_ reply: SubmitReply) {
        if let problem = PeerNames.nameProblem(reply.requestId, maxBytes: FieldLimits.maxRequestIDBytes) {
            failName("field 'request_id' \(problem)")
        }
        if reply.ok {
            if reply.error != nil || reply.problems != nil || reply.missing != nil {
                fail("'ok' true takes no 'error', 'problems' or 'missing'")
            }
            if let sweep = reply.sweep, let problem = PeerNames.nameProblem(sweep) {
                failName("field 'sweep' \(problem)")
            }
            if reply.sweep == nil || reply.cells == nil { fail("'ok' true takes 'sweep' and 'cells'") }
            if let cells = reply.cells { atLeast(cells, 0, "cells") }
        } else {
            if reply.sweep != nil || reply.cells != nil { fail("'ok' false takes no 'sweep' or 'cells'") }
            if let error = reply.error {
                if let problem = SubmitText.problem(error, maxBytes: FieldLimits.maxReasonBytes) {
                    failLimit("field 'error' \(problem)")
                }
            } else {
                fail("'ok' false takes an 'error'")
            }
        }
        if let problems = reply.problems {
            count(problems.count, FieldLimits.maxSubmitProblems, "problems")
            if let index = problems.firstIndex(where: {
                SubmitText.problem($0, maxBytes: FieldLimits.maxSubmitProblemBytes) != nil
            }) {
                failLimit("field 'problems[\(index)]' is empty, longer than 4096 bytes or not one printable line")
            }
        }
        if let missing = reply.missing {
            count(missing.count, FieldLimits.maxSubmitFiles, "missing")
            for (index, sha) in missing.enumerated() { digest(sha, "missing[\(index)]") }
            if Set(missing).count != missing.count { invalid("missing", "lists a file twice") }
        }
        if let chunkBytes = reply.chunkBytes { atLeast(chunkBytes, 1, "chunk_bytes") }
    }

    /// UPLOAD: the CHUNK layout's rules, and a total size of at most `maxUploadBytes`.
    mutating func upload(_ upload: Upload) {
        uploadSize(upload.totalSize, "total size")
    }

    /// UPLOAD_ACK: `sha256` hex64; `next_offset` 0 … 1 TiB; `reason` printable ≤ 4096 bytes, required with `refused`.
    mutating func uploadAck(_ ack: UploadAck) {
        digest(ack.sha256, "sha256")
        uploadSize(ack.nextOffset, "next_offset")
        if let reason = ack.reason, let problem = SubmitText.problem(reason, maxBytes: FieldLimits.maxReasonBytes) {
            failLimit("field 'reason' \(problem)")
        }
        if ack.status == .refused, ack.reason == nil { fail("status 'refused' takes a 'reason'") }
    }

    private mutating func uploadSize(_ size: Int64, _ field: String) {
        atLeast(size, 0, field)
        if size > FieldLimits.maxUploadBytes {
            failLimit("field '\(field)' is \(size) bytes, more than the largest upload (\(FieldLimits.maxUploadBytes))")
        }
    }
}
