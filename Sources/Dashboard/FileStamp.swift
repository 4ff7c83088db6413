// FileStamp: a file's size and modification time, to tell whether it changed since it was last read.
import Foundation

/// Size and modification time of a regular file.
struct FileStamp: Equatable, Sendable {
    var size: Int64
    var modified: Double

    /// The stamp of `path`; nil when it is missing or not a regular file.
    init?(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            attributes[.type] as? FileAttributeType == .typeRegular,
            let size = (attributes[.size] as? NSNumber)?.int64Value,
            let modified = attributes[.modificationDate] as? Date
        else { return nil }
        self.size = size
        self.modified = modified.timeIntervalSince1970
    }
}
