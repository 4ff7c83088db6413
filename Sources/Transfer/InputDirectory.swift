// InputDirectory: scans a directory input into its manifest — regular files only, every other kind refused.
import AblateSupport
import Foundation

/// A directory given as an input, read into an `InputManifest`: every regular file below it (hidden ones too) with
/// its size, execute bit and SHA-256. A symbolic link, device, socket or FIFO anywhere below it is refused (a link
/// could point outside the directory, and a worker could not recreate the others), as is a file or directory that
/// cannot be read; so are the limits of `InputManifest`.
public enum InputDirectory {
    /// The manifest of the directory at `root` (absolute).
    /// - Parameter hash: hashes one file (the coordinator shares its hashes between variants).
    /// - Throws: `InputManifestError`, one line naming the offending path.
    public static func manifest(
        of root: String, hash: (String) throws -> String = { try SHA256Hex.ofFile($0) }
    ) throws(InputManifestError) -> InputManifest {
        var entries: [InputManifestEntry] = []
        var pending: [String] = [""]
        while let relative = pending.popLast() {
            let directory = relative.isEmpty ? root : "\(root)/\(relative)"
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory)
            } catch {
                throw InputManifestError("\(directory): cannot be read (permission denied or not a directory)")
            }
            for name in names.sorted() {
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                let absolute = "\(root)/\(path)"
                var status = stat()
                guard lstat(absolute, &status) == 0 else {
                    throw InputManifestError("\(absolute): cannot be read (\(String(cString: strerror(errno))))")
                }
                switch status.st_mode & S_IFMT {
                case S_IFDIR:
                    pending.append(path)
                case S_IFREG:
                    if let problem = InputManifest.pathProblem(path) {
                        throw InputManifestError("\(absolute.debugDescription): a path in an input \(problem)")
                    }
                    guard entries.count < InputManifest.maximumFiles else {
                        throw InputManifestError(
                            "\(root): holds more than \(InputManifest.maximumFiles) files; an input may hold at most"
                                + " \(InputManifest.maximumFiles)")
                    }
                    let sha256: String
                    do { sha256 = try hash(absolute) } catch {
                        throw InputManifestError("\(absolute): cannot be read (permission denied)")
                    }
                    entries.append(
                        InputManifestEntry(
                            path: path, size: Int64(status.st_size), executable: status.st_mode & S_IXUSR != 0,
                            sha256: sha256))
                case S_IFLNK:
                    throw InputManifestError(
                        "\(absolute): is a symbolic link; an input directory may hold only regular files and"
                            + " directories (copy the file in)")
                default:
                    throw InputManifestError(
                        "\(absolute): is not a regular file or directory (a device, socket or FIFO)")
                }
            }
        }
        do {
            return try InputManifest(entries: entries)
        } catch {
            throw InputManifestError("\(root): \(error.description)")
        }
    }
}
