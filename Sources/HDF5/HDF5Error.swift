// HDF5Error: the typed error of every HDF5 failure, naming the file and object, and the one checking wrapper.
import CHDF5

/// A failed HDF5 operation, with the file and object it concerned and HDF5's own explanation.
public struct HDF5Error: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, in categories callers can branch on.
    public enum Kind: Sendable, Equatable {
        /// The file does not exist.
        case fileNotFound
        /// The file exists but is not an HDF5 file (or is truncated).
        case notHDF5
        /// The named group, dataset or attribute does not exist.
        case missingObject
        /// The stored element type or shape is not what the caller asked for.
        case typeMismatch
        /// A buffer or row range does not fit the dataset's shape.
        case shapeMismatch
        /// Any other failure reported by the library.
        case library
    }

    public let kind: Kind
    /// The HDF5 call or Ablate operation that failed, e.g. `H5Dopen2`.
    public let operation: String
    /// The file concerned (a path, or `<memory>` for in-memory images).
    public let file: String
    /// The object concerned inside the file (`/train/blocks`, `/` for the file itself).
    public let object: String
    /// HDF5's error-stack text or Ablate's explanation.
    public let detail: String

    public init(_ kind: Kind, operation: String, file: String, object: String, detail: String) {
        self.kind = kind
        self.operation = operation
        self.file = file
        self.object = object
        self.detail = detail
    }

    public var description: String {
        let where_ = object == "/" || object.isEmpty ? file : "\(file): \(object)"
        return "\(where_): \(detail) (\(operation))"
    }
}

/// Where an HDF5 call acts, for error messages.
public struct H5Context: Sendable {
    public let file: String
    public let object: String
    public init(file: String, object: String) {
        self.file = file
        self.object = object
    }
}

/// The one wrapper every HDF5 call goes through: runs `call` on the HDF5 executor and turns a negative
/// return value into an `HDF5Error` carrying the library's error-stack text.
@discardableResult
func h5check<T: BinaryInteger>(
    _ operation: String, _ context: H5Context, kind: HDF5Error.Kind = .library, _ call: () -> T
) throws -> T {
    let (value, stack): (T, String?) = HDF5Executor.shared.sync {
        let value = call()
        return (value, value < 0 ? HDF5ErrorStack.currentText() : nil)
    }
    if value < 0 {
        throw HDF5Error(
            kind, operation: operation, file: context.file, object: context.object,
            detail: stack ?? "HDF5 reported failure")
    }
    return value
}

/// Reads the calling thread's HDF5 error stack into one line of text.
enum HDF5ErrorStack {
    static func currentText() -> String? {
        final class Sink { var lines: [String] = [] }
        let sink = Sink()
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        _ = H5Ewalk2(
            ablate_h5e_default(), H5E_WALK_UPWARD,
            { _, err, data in
                guard let err, let data else { return 0 }
                let sink = Unmanaged<Sink>.fromOpaque(data).takeUnretainedValue()
                if let desc = err.pointee.desc {
                    let text = String(cString: desc)
                    if !text.isEmpty, !sink.lines.contains(text) { sink.lines.append(text) }
                }
                return 0
            }, box.toOpaque())
        H5Eclear2(ablate_h5e_default())
        return sink.lines.isEmpty ? nil : sink.lines.prefix(3).joined(separator: "; ")
    }
}
