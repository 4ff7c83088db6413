// SubmitCommand: `ablate submit SWEEP --connect EP`, hand a sweep and the files it names to a running lab.
import ArgumentParser
import CoordinatorKit
import Foundation
import WireProtocol
import WorkerKit

#if canImport(Glibc)
    import Glibc
#endif

/// Checks a sweep file here (every problem at once, nothing sent when there is one), sends it as a SUBMIT, uploads
/// the files the lab lacks (resuming an interrupted upload where the lab's bytes end) and submits again.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a sweep (and the files it names) to a running lab coordinator.",
        discussion:
            "The sweep is checked here first, as `ablate coordinator --sweep` would; only files the lab does not hold yet are uploaded, and an interrupted upload continues where it stopped."
    )

    @Argument(help: "The sweep file (YAML, see docs/sweep-format.md).") var sweep: String
    @Option(name: [.short, .long], help: "Endpoint of a running lab coordinator.") var connect: String
    @Option(
        parsing: .unconditional,
        help: "Scheduling priority, -1000 … 1000 (higher first); default: the sweep's `priority:` (0 without one).")
    var priority: Int?
    @Option(help: "Seconds to wait for each answer of the lab (the last SUBMIT hashes the files there).")
    var timeout = 120.0
    @Flag(help: "Print the outcome as one JSON object.") var json = false
    @OptionGroup var curve: CurveClientOptions

    /// Rounds of SUBMIT → uploads before giving up (files vanishing from the lab between rounds).
    static let rounds = 3

    func validate() throws {
        try EndpointSyntax.check(connect, option: "--connect", bind: false)
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] seconds") }
        if let priority, !FieldLimits.submitPriorities.contains(priority) {
            throw ValidationError("--priority must be in -1000 … 1000")
        }
    }

    func run() throws {
        let prepared = try SubmitPackage.prepare(sweepPath: sweep, checkStage1: Checkpoint.checkStage1)
        defer { prepared.removeTemporaries() }
        let request = SubmitRequest(
            requestId: ControlClient.newRequestID(), sweepText: prepared.text, sourceName: sweep,
            priority: priority, files: prepared.files,
            code: prepared.code.isEmpty ? nil : prepared.code)
        let size = MessageCodec.encode(.submit(request))[2].count
        guard size <= FrameLimits.defaultJSONBytes, prepared.text.utf8.count <= FieldLimits.maxSweepTextBytes else {
            throw RunFailure(
                message:
                    "\(sweep): the SUBMIT would be \(size) bytes, more than a lab takes (\(FrameLimits.defaultJSONBytes)); the sweep text may hold at most \(FieldLimits.maxSweepTextBytes) bytes"
            )
        }
        let client = try SubmitClient(endpoint: connect, timeoutMs: Int(timeout * 1000), curve: try curve.keys())
        var uploadedBytes: Int64 = 0
        var uploaded: Set<String> = []
        for _ in 0..<Self.rounds {
            let reply = try client.submit(request)
            if reply.ok, let name = reply.sweep, let cells = reply.cells {
                let present = Set(prepared.files.map(\.sha256)).subtracting(uploaded).count
                report(
                    name: name, cells: cells, uploadedBytes: uploadedBytes, uploaded: uploaded.count, present: present)
                return
            }
            guard let missing = reply.missing, !missing.isEmpty else { throw refusal(reply) }
            for sha in missing {
                guard let path = prepared.sources[sha], let file = prepared.files.first(where: { $0.sha256 == sha })
                else { throw RunFailure(message: "the lab asks for a file this sweep does not name (\(sha))") }
                let progress = ProgressLine(
                    enabled: !json && isatty(STDERR_FILENO) == 1, label: file.path, total: file.size)
                uploadedBytes += try client.upload(
                    path: path, sha256: sha, size: file.size,
                    chunkBytes: max(
                        1, min(reply.chunkBytes ?? FrameLimits.defaultChunkBytes, FrameLimits.defaultChunkBytes)),
                    progress: progress.show)
                progress.finish()
                uploaded.insert(sha)
            }
        }
        throw RunFailure(message: "\(connect): the lab still lacks files after \(Self.rounds) rounds of uploads")
    }

    private func refusal(_ reply: SubmitReply) -> RunFailure {
        let error = PrintableText.oneLine(reply.error ?? "refused without a reason")
        let problems = (reply.problems ?? []).map { PrintableText.oneLine($0) }
        let lines = problems == [error] ? problems : [error] + problems
        return RunFailure(message: "the lab refused the sweep: " + lines.joined(separator: "\n"))
    }

    private func report(name: String, cells: Int, uploadedBytes: Int64, uploaded: Int, present: Int) {
        if json {
            let object: [String: Any] = [
                "sweep": name, "cells": cells, "uploaded_bytes": uploadedBytes, "uploaded_files": uploaded,
                "files_present": present,
            ]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        let mib = String(format: "%.1f", Double(uploadedBytes) / 1_048_576)
        let there = present == 1 ? "1 file already there" : "\(present) files already there"
        print("submitted sweep \(name): \(cells) cells (uploaded \(mib) MiB, \(there))")
    }
}

/// `uploading PATH: 12.0 / 40.0 MiB` on one line of a terminal, rewritten in place at most 10 times a second.
private final class ProgressLine {
    let enabled: Bool
    let label: String
    let total: Int64
    private var last = Date.distantPast

    init(enabled: Bool, label: String, total: Int64) {
        self.enabled = enabled
        self.label = PrintableText.oneLine(label, limit: 60)
        self.total = total
    }

    func show(_ held: Int64) {
        guard enabled, Date().timeIntervalSince(last) >= 0.1 || held == total else { return }
        last = Date()
        let line = String(
            format: "\r\u{1B}[Kuploading %@: %.1f / %.1f MiB", label, Double(held) / 1_048_576,
            Double(total) / 1_048_576)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
