// OutputFile: a command's output file with its missing parent directories made, and unmade when the write fails.
import AblateSupport
import Foundation

/// `--out FILE` of `data import`, `data synth`, `predict` and `report`: the file's missing parent directories are
/// created first, and removed again when the write fails, so a failed command leaves nothing behind.
enum OutputFile {
    static func write<T>(to path: String, _ write: () throws -> T) throws -> T {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let created = try Directories.create(parent)
        do {
            return try write()
        } catch {
            if let created { try? FileManager.default.removeItem(atPath: created) }
            throw error
        }
    }
}
