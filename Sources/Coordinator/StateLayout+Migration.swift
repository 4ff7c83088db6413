// StateLayout+Migration: a single-sweep state directory turned into a lab in place, finished after a kill at any step.
import AblateSupport
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

extension StateLayout {
    /// The journal of a migration under way, at the top of the directory.
    public static let journalName = ".migration.json"

    /// Turns the single-layout directory `directory` into a lab whose only sweep is the old one, at
    /// `sweeps/<name>/`, and returns that sweep's directory. Holds the directory's `StateLock` throughout.
    ///
    /// The steps, each durable before the next: the journal `.migration.json` naming the sweep; the ledger's
    /// artifact paths inside the directory made relative to it and its recorded sweep text's paths inside it moved
    /// (`Ledger.relocatePaths`, also in `ledger.backup.sqlite`); `sweeps/` and `sweeps/.migrating-<name>/` created; each top-level entry but
    /// `coordinator.lock` and the journal renamed into the latter; it renamed to `sweeps/<name>`; `uploads/` and
    /// `lab.json` (`createLab`); the journal removed. A process killed at any point leaves a directory that `kind`
    /// reads as `.single(sweep: name)` (or `.lab` once done) and that this call, run again, finishes: entries
    /// already moved are not at the top any more, the others are moved. Run on a finished lab with sweep `name`, it
    /// returns that sweep's directory.
    /// - Throws: `StateLayoutError` (one line, nothing changed) when the recorded sweep (or the journal's) is not
    ///   `name`, a coordinator holds the directory, or it is not a single-layout directory; a file error when a
    ///   step fails (run it again once the cause is fixed).
    public static func migrate(single directory: String, expectedSweep name: String) throws -> String {
        try migrate(single: directory, expectedSweep: name, afterStep: { _ in })
    }

    /// `migrate(single:expectedSweep:)`, calling `afterStep(k)` after step k is durable (0: checked and locked,
    /// nothing changed yet), so that a test can kill the process there.
    static func migrate(
        single directory: String, expectedSweep name: String, afterStep: (Int) throws -> Void
    ) throws -> String {
        guard SweepReader.isSafeName(name) else {
            throw StateLayoutError("'\(name)': not a sweep name (letters, digits, '.', '_' and '-')")
        }
        let target = sweepDirectory(lab: directory, name: name)
        let journaled = try migratingSweep(directory)
        if let journaled, journaled != name {
            throw StateLayoutError(
                "\(directory): a migration of sweep '\(journaled)' is under way; finish it with that name, not '\(name)'"
            )
        }
        if journaled == nil {
            if try finishedLab(directory, holding: name) { return target }
            try checkSingle(directory, name: name)
        }

        let lockPath = "\(directory)/\(StateLock.fileName)"
        let lockExisted = exists(lockPath)
        let lock: StateLock
        do { lock = try StateLock(stateDirectory: directory) } catch {
            throw StateLayoutError("cannot migrate: \(error)")
        }
        defer { withExtendedLifetime(lock) {} }
        if journaled == nil {
            // A coordinator may have run between the check and the lock.
            do { try checkSingle(directory, name: name) } catch {
                if !lockExisted { unlink(lockPath) }
                throw error
            }
        }
        try afterStep(0)

        var step = 0
        func done() throws {
            step += 1
            try afterStep(step)
        }
        if journaled == nil {
            let journal = #"{"migration":"single-to-lab","sweep":"\#(name)","version":1}"# + "\n"
            try AtomicFile.write(Array(journal.utf8), to: journalPath(directory), overwrite: .replace)
        }
        try done()

        let sweeps = "\(directory)/\(sweepsName)"
        let staging = "\(sweeps)/.migrating-\(name)"
        // The moves start once the staging directory exists: until then the ledger is whole at the top.
        if !exists(staging), !exists(target) {
            try relocatePaths(directory, movingTo: "\(sweepsName)/\(name)")
        }
        try done()
        if try Directories.create(sweeps) != nil { try AtomicFile.fsyncPath(directory) }
        try done()
        if !exists(target) {
            if try Directories.create(staging) != nil { try AtomicFile.fsyncPath(sweeps) }
            try done()
            for entry in try movableEntries(directory) {
                try move("\(directory)/\(entry)", to: "\(staging)/\(entry)", syncing: [staging, directory])
                try done()
            }
            try move(staging, to: target, syncing: [sweeps])
            try done()
        }
        try createLab(at: directory)
        try done()
        if unlink(journalPath(directory)) != 0, errno != ENOENT {
            throw StateLayoutError("\(journalPath(directory)): cannot remove: \(String(cString: strerror(errno)))")
        }
        try AtomicFile.fsyncPath(directory)
        try done()
        return target
    }

    // MARK: - Steps

    static func journalPath(_ directory: String) -> String { "\(directory)/\(journalName)" }

    /// The sweep named by the journal of a migration under way; nil when there is none.
    static func migratingSweep(_ directory: String) throws -> String? {
        let path = journalPath(directory)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let sweep = object["sweep"] as? String, SweepReader.isSafeName(sweep)
        else {
            throw StateLayoutError("\(path): not a migration journal of ablate")
        }
        return sweep
    }

    /// Whether `directory` already is a lab holding sweep `name` (a migration that finished); throws when it is a
    /// lab without it.
    private static func finishedLab(_ directory: String, holding name: String) throws -> Bool {
        guard exists("\(directory)/\(markerName)"), !exists(Ledger.filePath(in: directory)) else { return false }
        try readMarker(directory)
        guard isDirectory(sweepDirectory(lab: directory, name: name)) else {
            throw StateLayoutError("\(directory): already a lab, and it holds no sweep '\(name)'")
        }
        return true
    }

    /// Refuses a directory that is not a single-layout directory of sweep `name`, or that holds a lab's entries.
    private static func checkSingle(_ directory: String, name: String) throws {
        guard exists(Ledger.filePath(in: directory)) else {
            throw StateLayoutError("\(directory): no \(Ledger.fileName) at its top; not a single-sweep state directory")
        }
        let recorded = try recordedSweep(directory)
        guard recorded == name else {
            throw StateLayoutError(
                "\(directory): its ledger records sweep '\(recorded)', not '\(name)'; nothing was migrated")
        }
        for entry in [markerName, sweepsName, uploadsName] where exists("\(directory)/\(entry)") {
            throw StateLayoutError(
                "\(directory): already holds \(entry) beside its ledger; move it away before migrating")
        }
    }

    /// The top-level entries that move into the sweep's directory: all but the lock (held, and the lab's lock
    /// afterwards), the journal (and its temporary files) and `sweeps/`.
    private static func movableEntries(_ directory: String) throws -> [String] {
        (try entries(of: directory) ?? []).filter {
            $0 != StateLock.fileName && $0 != sweepsName && !$0.hasPrefix(journalName)
                && !$0.hasPrefix(".\(journalName)")
        }
    }

    /// rename(2), then fsync of each directory in `syncing` (so the move is on disk before the next step).
    private static func move(_ source: String, to destination: String, syncing: [String]) throws {
        guard rename(source, destination) == 0 else {
            throw StateLayoutError("\(source): cannot move to \(destination): \(String(cString: strerror(errno)))")
        }
        for directory in syncing { try AtomicFile.fsyncPath(directory) }
    }

    /// Makes the ledger's (and its backup's) artifact paths that lie inside `directory` relative to it, and the
    /// recorded sweep text's paths inside it point into `moved`, so that they follow the move
    /// (`Ledger.relocatePaths`). Paths of files outside it (the user's dataset) stay as they are.
    private static func relocatePaths(_ directory: String, movingTo moved: String) throws {
        guard exists(Ledger.filePath(in: directory)) else {
            throw StateLayoutError(
                "\(directory): the migration lost its ledger: no \(Ledger.fileName) at the top or in \(sweepsName)/")
        }
        let prefixes = absolutePrefixes(directory)
        let ledger = try Ledger(directory: directory)
        try ledger.relocatePaths(inside: prefixes, movingTo: moved)
        try ledger.close()
        let backup = "\(directory)/\(Ledger.backupFileName)"
        guard exists(backup) else { return }
        do {
            let queue = try DatabaseQueue(path: backup)
            _ = try queue.write { try Ledger.relocatePaths($0, inside: prefixes, movingTo: moved) }
            try queue.close()
        } catch {
            throw StateLayoutError("\(backup): cannot rewrite its paths: \(error)")
        }
    }

    /// The absolute spellings of `directory` that recorded paths may start with: as given (made absolute) and with
    /// symbolic links resolved.
    static func absolutePrefixes(_ directory: String) -> [String] {
        let absolute = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        let url = URL(fileURLWithPath: absolute)
        var prefixes: [String] = []
        for path in [url.standardizedFileURL.path, url.resolvingSymlinksInPath().path] where !prefixes.contains(path) {
            prefixes.append(path)
        }
        return prefixes
    }
}
