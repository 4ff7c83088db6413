// StateLayout: the two layouts of a state directory (one sweep, or a lab of sweeps), told apart and created.
import AblateSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A state directory is in one of two layouts. The single layout is one sweep's directory (`ledger.sqlite`,
/// `artifacts/`, `runs/`… at its top). The lab layout holds many sweeps:
///
///     STATE/lab.json          {"layout":"lab","version":1}; its presence means lab layout
///     STATE/sweeps/<name>/    each a complete single-layout directory
///     STATE/uploads/          uploaded files
///
/// `migrate(single:expectedSweep:)` (StateLayout+Migration.swift) turns a single-layout directory into a lab in place.
public enum StateLayout {
    /// What a directory holds.
    public enum Kind: Equatable, Sendable {
        /// Missing, or a directory without entries.
        case empty
        /// One sweep's state directory, with the sweep name its ledger records. Also what an interrupted migration
        /// to the lab layout reads as (`isMigrating`), with the name its journal records: `migrate` finishes it.
        case single(sweep: String)
        /// A lab: `lab.json` at the top and no migration under way.
        case lab
    }

    /// The marker file of the lab layout.
    public static let markerName = "lab.json"
    /// The lab's directory of sweeps.
    public static let sweepsName = "sweeps"
    /// The lab's directory of uploaded files.
    public static let uploadsName = "uploads"
    /// The lab layout version this build writes and reads.
    public static let labVersion = 1

    /// What `directory` holds. A directory with the journal of an interrupted migration is `.single(sweep:)` named
    /// by the journal, whatever else it holds (the ledger may already have moved).
    /// - Throws: `StateLayoutError` (one line naming the directory) when it is not a directory, holds neither
    ///   `lab.json` nor `ledger.sqlite`, holds both without a migration under way, has a marker this build cannot
    ///   read, or its ledger records no sweep; `LedgerError` when its ledger cannot be read.
    public static func kind(of directory: String) throws -> Kind {
        guard let entries = try entries(of: directory) else { return .empty }
        if entries.isEmpty { return .empty }
        if let sweep = try migratingSweep(directory) { return .single(sweep: sweep) }
        let marker = entries.contains(markerName)
        let ledger = entries.contains(Ledger.fileName)
        if marker, ledger {
            throw StateLayoutError(
                "\(directory): holds both \(markerName) and \(Ledger.fileName) at its top and no migration under way; move one of them away"
            )
        }
        if marker {
            try readMarker(directory)
            return .lab
        }
        if ledger { return .single(sweep: try recordedSweep(directory)) }
        let shown = entries.prefix(5).joined(separator: ", ") + (entries.count > 5 ? ", …" : "")
        throw StateLayoutError(
            "\(directory): not a state directory: no \(markerName) or \(Ledger.fileName) at its top (it holds \(shown))"
        )
    }

    /// Whether `directory` holds the journal of a migration to the lab layout that has not finished.
    public static func isMigrating(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: journalPath(directory))
    }

    /// Makes `directory` (created if needed) a lab: `sweeps/`, `uploads/`, then `lab.json` written atomically. A
    /// directory that already is one is left as it is.
    /// - Throws: `FileWriteError` when a directory or the marker cannot be written, `StateLayoutError` when an
    ///   existing marker cannot be read.
    public static func createLab(at directory: String) throws {
        if try Directories.create(directory) != nil {
            try AtomicFile.fsyncPath(URL(fileURLWithPath: directory).deletingLastPathComponent().path)
        }
        for name in [sweepsName, uploadsName] {
            if try Directories.create("\(directory)/\(name)") != nil { try AtomicFile.fsyncPath(directory) }
        }
        let marker = "\(directory)/\(markerName)"
        if FileManager.default.fileExists(atPath: marker) {
            try readMarker(directory)
            return
        }
        try AtomicFile.write(Array(#"{"layout":"lab","version":\#(labVersion)}"#.utf8) + [10], to: marker)
    }

    /// Whether `directory` is a lab (its `lab.json` exists; read it with `kind(of:)` to check it).
    public static func isLab(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: "\(directory)/\(markerName)")
    }

    /// The state directory an offline command reads for sweep `name` given `--state directory`: the directory itself
    /// when it is not a lab; in a lab, the named sweep's (or the only one's when none is named). Nil when the lab
    /// has no such sweep, or several and none was named; `names` are then its sweeps.
    public static func sweepState(_ directory: String, name: String?) throws -> (directory: String?, names: [String]) {
        guard isLab(directory) else { return (directory, []) }
        let names = try sweepNames(lab: directory)
        guard let chosen = name ?? (names.count == 1 ? names.first : nil), names.contains(chosen) else {
            return (nil, names)
        }
        return (sweepDirectory(lab: directory, name: chosen), names)
    }

    /// The state directory of sweep `name` in lab `lab`.
    public static func sweepDirectory(lab: String, name: String) -> String { "\(lab)/\(sweepsName)/\(name)" }

    /// The names of the lab's sweeps, sorted; entries starting with `.` (a migration's staging directory) and
    /// entries that are not directories are left out.
    public static func sweepNames(lab: String) throws -> [String] {
        let folder = "\(lab)/\(sweepsName)"
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw StateLayoutError("\(folder): cannot list the lab's sweeps: \(error.localizedDescription)")
        }
        return names.filter { !$0.hasPrefix(".") && isDirectory("\(folder)/\($0)") }.sorted()
    }

    // MARK: - Reading

    /// The entries of `directory` (hidden ones included), sorted; nil when it does not exist.
    static func entries(of directory: String) throws -> [String]? {
        var status = stat()
        guard stat(directory, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw StateLayoutError("\(directory): \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else { throw StateLayoutError("\(directory): not a directory") }
        do { return try FileManager.default.contentsOfDirectory(atPath: directory).sorted() } catch {
            throw StateLayoutError("\(directory): cannot list: \(error.localizedDescription)")
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    /// Checks the lab marker: `{"layout":"lab","version":N}` with N this build's version.
    static func readMarker(_ directory: String) throws {
        let path = "\(directory)/\(markerName)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StateLayoutError("\(path): cannot be read")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            object["layout"] as? String == "lab", let version = object["version"] as? Int
        else {
            throw StateLayoutError(#"\#(path): not a lab marker (expected {"layout":"lab","version":\#(labVersion)})"#)
        }
        guard version == labVersion else {
            throw StateLayoutError(
                "\(path): lab layout version \(version); this build of ablate reads version \(labVersion)")
        }
    }

    /// The sweep name the ledger at the top of `directory` records, read without changing it when its schema is
    /// current (a ledger of an older schema is opened for writing, which upgrades it, as a coordinator would).
    static func recordedSweep(_ directory: String) throws -> String {
        let name: String?
        do {
            let ledger = try Ledger(readingDirectory: directory)
            defer { try? ledger.close() }
            name = try ledger.sweepName()
        } catch let error as LedgerError where error.kind == .schema {
            let ledger = try Ledger(directory: directory)
            defer { try? ledger.close() }
            name = try ledger.sweepName()
        }
        guard let name else {
            throw StateLayoutError("\(Ledger.filePath(in: directory)): records no sweep (no coordinator has started)")
        }
        return name
    }
}

/// A state directory in a layout that cannot be used as asked; the description is one line naming the directory.
public struct StateLayoutError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
