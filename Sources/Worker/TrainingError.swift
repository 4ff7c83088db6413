// TrainingError: the errors of a training run, each printed as one line.

/// Errors of a training run, printed as one line.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case badConfig(String)
    case badData(String)
    case badCheckpoint(path: String, detail: String)
    /// The run was asked to stop (its last completed epoch is the resume point).
    case cancelled

    public var description: String {
        switch self {
        case .cancelled: "the run was cancelled"
        case .badConfig(let detail): "invalid training settings: \(detail)"
        case .badData(let detail): detail
        case .badCheckpoint(let path, let detail): "\(path): \(detail)"
        }
    }
}
