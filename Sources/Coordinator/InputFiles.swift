// InputFiles: resolves each command variant's `inputs:` to hashed files and directories, and serves them as artifacts.
import AblateSupport
import Foundation
import TransferKit
import WireProtocol

/// The inputs of a sweep's command variants, hashed when the sweep is planned: a file by its bytes, a directory by
/// its manifest (`InputDirectory`). Each path is checked here: it must exist, be a regular file or a directory (a
/// symbolic link naming one is followed; links inside a directory are refused) and be readable.
public enum InputFiles {
    /// Each command variant's inputs, by variant name (a variant without inputs is absent), sorted by name.
    /// - Throws: `SweepError` with a problem at the entry of each input that cannot be used.
    public static func records(for sweep: Sweep) throws -> [String: [CellInput]] {
        var problems: Set<SweepProblem> = []
        var byPath: [String: CellInput] = [:]
        var records: [String: [CellInput]] = [:]
        for variant in sweep.variants where variant.command != nil && !variant.inputs.isEmpty {
            var inputs: [CellInput] = []
            for input in variant.inputs {
                if let held = byPath[input.path] {
                    var named = held
                    named.name = input.name
                    inputs.append(named)
                    continue
                }
                do {
                    let record = try hashed(input)
                    byPath[input.path] = record
                    inputs.append(record)
                } catch {
                    let hint = sweep.movedRelativePathHint(for: input.path).map { "; \($0)" } ?? ""
                    problems.insert(
                        SweepProblem(
                            line: input.location.line, column: input.location.column, key: input.location.key,
                            message: "\(error)" + hint))
                }
            }
            if inputs.count == variant.inputs.count { records[variant.name] = inputs }
        }
        guard problems.isEmpty else { throw SweepError(sourceName: sweep.sourceName, problems: Array(problems)) }
        return records
    }

    /// One input hashed.
    static func hashed(_ input: SweepInput) throws(InputManifestError) -> CellInput {
        var status = stat()
        guard stat(input.path, &status) == 0 else {
            let reason = errno == ENOENT ? "no such file or directory" : String(cString: strerror(errno))
            throw InputManifestError("\(input.path): \(reason)")
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            guard access(input.path, R_OK) == 0 else {
                throw InputManifestError("\(input.path): cannot be read (permission denied)")
            }
            let sha256: String
            do { sha256 = try SHA256Hex.ofFile(input.path) } catch {
                throw InputManifestError("\(input.path): cannot be read (\(error.detail))")
            }
            return CellInput(
                name: input.name, kind: .file, sha256: sha256, path: input.path, size: Int64(status.st_size))
        case S_IFDIR:
            let manifest = try InputDirectory.manifest(of: input.path)
            return CellInput(
                name: input.name, kind: .directory, sha256: manifest.sha256, path: input.path,
                size: manifest.totalBytes, manifest: manifest)
        default:
            throw InputManifestError("\(input.path): not a regular file or directory")
        }
    }

    /// Makes every input of `plan`'s cells an artifact the coordinator serves: a file is registered where it is, a
    /// directory's archive (`InputArchive`) is written once to `STATE/inputs/<manifest sha256>` and registered there.
    /// - Returns: each variant's inputs as ASSIGN carries them, by variant name, and the artifacts registered.
    public static func register(
        _ inputs: [String: [CellInput]], ledger: Ledger, stateDirectory: String, now: Double
    ) throws -> (refs: [String: [InputRef]], artifacts: [ArtifactRef]) {
        var artifacts: [String: ArtifactRef] = [:]
        var refs: [String: [InputRef]] = [:]
        for (variant, list) in inputs.sorted(by: { $0.key < $1.key }) {
            for input in list {
                let artifact: ArtifactRef
                if let held = artifacts[input.sha256] {
                    artifact = held
                } else if let manifest = input.manifest {
                    let folder = "\(stateDirectory)/inputs"
                    _ = try Directories.create(folder)
                    do {
                        artifact = try InputArchive.write(
                            manifest, of: input.path, to: "\(folder)/\(input.sha256)", name: "input-\(input.name)")
                    } catch {
                        throw ArtifactStoreError("\(error)")
                    }
                    try ledger.addArtifact(
                        ArtifactRecord(
                            sha256: artifact.sha256, size: artifact.size, path: "inputs/\(input.sha256)", addedAt: now))
                    artifacts[input.sha256] = artifact
                } else {
                    artifact = ArtifactRef(name: "input-\(input.name)", sha256: input.sha256, size: input.size)
                    try ledger.addArtifact(
                        ArtifactRecord(sha256: input.sha256, size: input.size, path: input.path, addedAt: now))
                    artifacts[input.sha256] = artifact
                }
                refs[variant, default: []].append(
                    InputRef(name: input.name, kind: input.kind, sha256: input.sha256, artifact: artifact))
            }
        }
        return (refs, Array(artifacts.values))
    }
}
