// FaultMatrixTests: kill the worker, the coordinator or both at each phase of a cell; the end state equals a clean run's.
import AblateSupport
import CoordinatorKit
import Foundation
import TestSupport
import WorkerKit
import XCTest

/// One row of the fault-injection matrix (docs/fault-injection.md).
struct FaultCase: CustomStringConvertible {
    enum Target: String, CaseIterable { case worker, coordinator, both }
    var phase: FaultPhase
    var target: Target
    var description: String { "\(phase.rawValue) × \(target.rawValue)" }

    /// Which occurrence of the phase is paused at: one inside the first stage-2 cell (after the stage-1 job's epoch,
    /// transfers and report), so that a cell with a prefix cache, several epochs and checkpoints is hit.
    var occurrence: Int {
        switch phase {
        case .prefixCache, .reportRefresh, .submit, .upload: 1
        case .midEpoch, .metricsBeforeCheckpoint: 3
        case .transfer: 8
        case .beforeDone: 2
        }
    }
}

/// Runs a 2 variants × 2 seeds sweep (plus its stage-1 job) once undisturbed and once per fault case, on one worker
/// that streams every epoch's checkpoint, and compares every cell's results and the verdict table. CI runs the
/// subset below; `ABLATE_FAULT_MATRIX=full` (scripts/fault-matrix.sh) runs every phase × target and prints the table.
final class FaultMatrixTests: XCTestCase {
    static let subset: [FaultCase] = [
        FaultCase(phase: .midEpoch, target: .both), FaultCase(phase: .transfer, target: .coordinator),
        FaultCase(phase: .beforeDone, target: .worker), FaultCase(phase: .metricsBeforeCheckpoint, target: .worker),
    ]

    func testKillsAtEachPhaseLeaveTheCleanRunsResults() throws {
        let full = ProcessInfo.processInfo.environment["ABLATE_FAULT_MATRIX"] == "full"
        let cases =
            full
            ? FaultPhase.allCases.filter { !$0.isLabOnly }.flatMap { phase in
                FaultCase.Target.allCases.map { FaultCase(phase: phase, target: $0) }
            } : Self.subset
        let directory = TemporaryDirectory()
        let sweep = try LocalCluster.faultSweep(in: directory, name: "faults")
        let clean = LocalCluster(directory: directory, name: "clean")
        defer { clean.stopAll() }
        try clean.startCoordinator(sweep: sweep)
        try clean.startWorker("clean", arguments: ["--checkpoint-interval", "0"], cache: "cache-clean")
        XCTAssertEqual(try clean.waitForCoordinator(timeout: 300), 0, clean.logTails())
        let reference = try ResultSnapshot(state: clean.state)

        var table: [(FaultCase, String)] = []
        for (index, fault) in cases.enumerated() {
            let outcome = try run(fault, index: index, sweep: sweep, directory: directory, reference: reference)
            table.append((fault, outcome))
        }
        print(Self.render(table))
        for (fault, outcome) in table { XCTAssertEqual(outcome, "equal", "\(fault)") }
    }

    /// One fault case: pause at the phase, kill the target(s), release the survivor, restart the killed, finish;
    /// returns "equal" or what differs.
    private func run(
        _ fault: FaultCase, index: Int, sweep: String, directory: TemporaryDirectory, reference: ResultSnapshot
    ) throws -> String {
        let cluster = LocalCluster(directory: directory, name: "fault\(index)")
        defer { cluster.stopAll() }
        let marker = directory.file("fault\(index).marker")
        let pause = ["--fault-pause", "\(fault.phase.rawValue):\(fault.occurrence)", "--fault-marker", marker]
        let worker = "w\(index)"
        let workerArguments = ["--checkpoint-interval", "0"]
        try cluster.startCoordinator(sweep: sweep, arguments: fault.phase.inCoordinator ? pause : [])
        // Each case builds its own prefix cache (a shared one would be loaded, never built).
        let cache = "cache-fault\(index)"
        try cluster.startWorker(
            worker, arguments: workerArguments + (fault.phase.inCoordinator ? [] : pause), cache: cache)
        let deadline = Date().addingTimeInterval(240)
        while !FileManager.default.fileExists(atPath: marker) {
            guard Date() < deadline else { return "the pause never came\n\(cluster.logTails())" }
            Thread.sleep(forTimeInterval: 0.05)
        }
        if fault.target != .coordinator { try cluster.signal(worker: worker, SIGKILL) }
        if fault.target != .worker { try cluster.killCoordinator() }
        unlink(marker)
        if fault.target != .coordinator {
            cluster.workers[worker]?.waitUntilExit()
            try cluster.startWorker(worker, arguments: workerArguments, cache: cache)
        }
        if fault.target != .worker { try cluster.startCoordinator(sweep: sweep) }
        let status = try cluster.waitForCoordinator(timeout: 300)
        guard status == 0 else { return "coordinator exited with \(status)\n\(cluster.logTails())" }
        let differences = try ResultSnapshot(state: cluster.state).differences(from: reference)
        return differences.isEmpty ? "equal" : "differs: " + differences.joined(separator: "; ")
    }

    static func render(_ table: [(FaultCase, String)]) -> String {
        let targets = FaultCase.Target.allCases
        var lines = [
            "| phase | " + targets.map(\.rawValue).joined(separator: " | ") + " |",
            "|---|" + targets.map { _ in "---" }.joined(separator: "|") + "|",
        ]
        for phase in FaultPhase.allCases where table.contains(where: { $0.0.phase == phase }) {
            let cells = targets.map { target in
                table.first { $0.0.phase == phase && $0.0.target == target }.map {
                    $0.1.hasPrefix("equal") ? "equal" : "DIFFERS"
                } ?? "–"
            }
            lines.append("| \(phase.rawValue) | " + cells.joined(separator: " | ") + " |")
        }
        return "fault-injection matrix:\n" + lines.joined(separator: "\n")
    }
}

/// A finished state directory's results with timings removed: per cell, metrics.jsonl, summary.json, the tensors
/// of best.h5, predictions.h5; and each variant's verdict row of report.json. `ignoring` names further JSON keys
/// left out at any depth (e.g. `gemm_kernel`, which records the path a cell ran on, not its result).
struct ResultSnapshot {
    var cells: [String: [String: String]] = [:]
    var verdicts: [String: String] = [:]

    init(state: String, ignoring: Set<String> = []) throws {
        let untimed = { (text: String) in try Self.untimed(text, ignoring: ignoring) }
        let ledger = try Ledger(readingDirectory: state)
        for cell in try ledger.plannedCells() {
            let run = "\(state)/runs/\(cell.variant)/seed-\(cell.seed)"
            var parts: [String: String] = ["state": cell.state.rawValue]
            parts["metrics.jsonl"] = try Self.lines(of: "\(run)/metrics.jsonl").map(untimed).joined(
                separator: "\n")
            parts["summary.json"] = try untimed(String(contentsOfFile: "\(run)/summary.json", encoding: .utf8))
            let predictions = try Predictions.read("\(run)/predictions.h5")
            parts["predictions.h5"] =
                "epoch \(predictions.epoch) labels \(Self.digest(predictions.labels.map { UInt64(bitPattern: Int64($0)) })) logits \(Self.digest(predictions.logits.map { UInt64($0.bitPattern) }))"
            let best = try Checkpoint.read("\(run)/best.h5")
            parts["best.h5"] = best.tensors.keys.sorted().map {
                "\($0) \(best.tensors[$0].map { Self.digest($0.values.map { UInt64($0.bitPattern) }) } ?? 0)"
            }.joined(separator: ",")
            cells["\(cell.variant)/seed-\(cell.seed)"] = parts
        }
        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/report.json")))
                as? [String: Any])
        for variant in report["variants"] as? [[String: Any]] ?? [] {
            let keys = ["delta_pp", "ci_low_pp", "ci_high_pp", "p_value", "p_holm", "verdict"]
            verdicts[variant["name"] as? String ?? "?"] = keys.map { "\($0)=\(variant[$0].map { "\($0)" } ?? "nil")" }
                .joined(separator: " ")
        }
    }

    func differences(from reference: ResultSnapshot) -> [String] {
        var out: [String] = []
        for name in Set(cells.keys).union(reference.cells.keys).sorted() {
            let mine = cells[name] ?? [:], theirs = reference.cells[name] ?? [:]
            for part in Set(mine.keys).union(theirs.keys).sorted() where mine[part] != theirs[part] {
                out.append("\(name) \(part)")
            }
        }
        for name in Set(verdicts.keys).union(reference.verdicts.keys).sorted()
        where verdicts[name] != reference.verdicts[name] {
            out.append("verdict of \(name): \(verdicts[name] ?? "none") vs \(reference.verdicts[name] ?? "none")")
        }
        return out
    }

    /// FNV-1a over the values' bits: equal exactly when the values are bit for bit equal (up to collisions).
    static func digest(_ values: [UInt64]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in values {
            hash = (hash ^ value) &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    private static func lines(of path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// A JSON text with every `seconds` key (and every key in `ignoring`) removed at any depth, keys sorted.
    static func untimed(_ text: String, ignoring: Set<String> = []) throws -> String {
        func strip(_ value: Any) -> Any {
            if let object = value as? [String: Any] {
                return object.filter { $0.key != "seconds" && !ignoring.contains($0.key) }.mapValues(strip)
            }
            if let array = value as? [Any] { return array.map(strip) }
            return value
        }
        let object = strip(try JSONSerialization.jsonObject(with: Data(text.utf8)))
        return String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
