// SubmitPackage: a sweep file checked on the client, its files hashed (directories archived) and its SUBMIT built.
import AblateSupport
import Foundation
import RunSpec
import TransferKit
import WireProtocol

/// Why a sweep cannot be packaged for a lab (besides its `SweepError`), in one line.
public struct SubmitPackageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What `ablate submit` sends: the SUBMIT's files and code, and where each file to upload is on this host. A
/// directory input travels as its `InputArchive`, written to a temporary directory that `removeTemporaries` deletes.
public struct SubmitPackage {
    public var text: String
    public var files: [SubmitFile] = []
    public var code: [String: SubmitCode] = [:]
    /// SHA-256 → the local file whose bytes those are (an archive for a directory).
    public var sources: [String: String] = [:]
    /// The directory holding the archives; nil when none was written.
    public var temporary: String?

    /// Checks the sweep at `path` exactly as `ablate coordinator --sweep` does before starting (parse, dataset,
    /// stage-1 checkpoint, code, inputs, plan), every problem at once, and hashes what the lab needs.
    /// - Parameter checkStage1: the trainer's check of a stage-1 checkpoint (`Checkpoint.checkStage1`).
    /// - Throws: `SweepError` with every problem; `SubmitPackageError` when a directory cannot be archived.
    public static func prepare(sweepPath path: String, checkStage1: ((String) throws -> TrainingConfig)?) throws
        -> SubmitPackage
    {
        let text = try Sweep.readText(path: path)
        let directory = Sweep.directory(ofFile: path)
        let sweep = try Sweep.parse(text: text, sourceName: path, workingDirectory: directory)
        let check = try SweepCheck.run(
            sweep, code: { try CodeFiles.records(for: sweep, sweepDirectory: directory) },
            checkStage1: checkStage1, allProblems: true)
        var prepared = SubmitPackage(text: text)
        do {
            try prepared.collect(check, sourceName: path)
        } catch {
            prepared.removeTemporaries()
            throw error
        }
        return prepared
    }

    /// Fills `files`, `sources` and `code` from a passed check.
    private mutating func collect(_ check: SweepCheck, sourceName: String) throws {
        let keyed = try SubmissionPaths.parse(text: text, sourceName: sourceName)
        let local = SubmissionPaths.paths(of: check.sweep)
        let keys = SubmissionPaths.paths(of: keyed).map { SubmissionPaths.key(ofParsed: $0.path) }
        guard local.count == keys.count else { throw SubmitPackageError("\(sourceName): the sweep's paths differ") }
        var byKey: [String: String] = [:]
        for (file, key) in zip(local, keys) {
            if let held = byKey[key], held != file.path {
                throw SubmitPackageError(
                    "\(sourceName): '\(key)' names two files on this host (\(held) and \(file.path)); write the path once, relative or absolute"
                )
            }
            guard byKey[key] == nil else { continue }
            byKey[key] = file.path
            files.append(try submitFile(file, key: key, check: check))
        }
        code = check.code.mapValues { record in
            SubmitCode(
                sha256: record.sha256, files: record.files.map { SubmitCodeFile(path: $0.path, sha256: $0.sha256) },
                commit: record.commit, dirty: record.dirty)
        }
    }

    private mutating func submitFile(_ file: SweepFilePath, key: String, check: SweepCheck) throws -> SubmitFile {
        let artifact: ArtifactRef?
        switch file.role {
        case .dataset: artifact = check.dataset
        case .stage1Checkpoint: artifact = check.stage1
        case .input(let variant, let name):
            guard let input = check.inputs[variant]?.first(where: { $0.name == name }) else {
                throw SubmitPackageError("input \(name) of variant \(variant) was not hashed")
            }
            if let manifest = input.manifest {
                let archive = try archivePath(input.sha256)
                let ref: ArtifactRef
                do {
                    ref = try InputArchive.write(manifest, of: input.path, to: archive, name: "input-\(name)")
                } catch {
                    throw SubmitPackageError("\(input.path): cannot be archived: \(error)")
                }
                sources[ref.sha256] = archive
                return SubmitFile(
                    path: key, sha256: ref.sha256, size: ref.size, kind: .archive, manifestSha256: input.sha256)
            }
            artifact = ArtifactRef(name: "input", sha256: input.sha256, size: input.size)
        }
        guard let artifact else { throw SubmitPackageError("\(file.path) was not hashed") }
        sources[artifact.sha256] = file.path
        return SubmitFile(path: key, sha256: artifact.sha256, size: artifact.size, kind: .file)
    }

    /// A path in this run's temporary directory for the archive of the directory whose manifest is `manifest`.
    private mutating func archivePath(_ manifest: String) throws -> String {
        if temporary == nil {
            let directory = NSTemporaryDirectory() + "/ablate-submit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try Directories.create(directory)
            temporary = directory
        }
        return "\(temporary ?? "")/\(manifest).archive"
    }

    /// Deletes the archives written for directory inputs.
    public func removeTemporaries() {
        if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
    }
}
