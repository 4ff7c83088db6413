// DecodeError: why a received frame set is not a valid protocol message, with a short reason key for counting.

/// A received message that is refused. Decoding checks, in order: at least one frame, the signature and version,
/// the command byte, the frame count for that command, the frame sizes, then the header.
public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No frames at all.
    case empty
    /// Frame 0 is not `"ABL"` followed by a version byte.
    case wrongSignature
    /// Frame 0 is `"ABL"` with a major version other than ours.
    case unsupportedVersion(UInt8)
    /// Only the signature frame arrived.
    case missingCommand
    /// Frame 1 is not exactly one byte long.
    case commandFrameSize(Int)
    /// Frame 1 holds a byte that is not a known command.
    case unknownCommand(UInt8)
    /// The command needs another number of frames (3, or 4 for CHUNK and DATA).
    case wrongFrameCount(command: Command, count: Int)
    /// Frame `index` is larger than the limits allow.
    case frameTooLarge(index: Int, size: Int)
    /// The header (frame 2), or the payload's agreement with it, is invalid; the text says which field and why.
    case malformedHeader(String)
    /// A file name or label breaks the `PeerNames` rule; the text says which field (never the name itself).
    case invalidName(String)
    /// A list, text or file size is over a `FieldLimits` limit; the text says which field and the limit.
    case overLimit(String)

    /// A stable short key for drop counters: `frames`, `signature`, `version`, `command`, `size`, `header`, `name`
    /// or `limit`.
    public var reason: String {
        switch self {
        case .empty, .missingCommand, .wrongFrameCount: "frames"
        case .wrongSignature: "signature"
        case .unsupportedVersion: "version"
        case .commandFrameSize, .unknownCommand: "command"
        case .frameTooLarge: "size"
        case .malformedHeader: "header"
        case .invalidName: "name"
        case .overLimit: "limit"
        }
    }

    /// One line naming what is wrong and where.
    public var description: String {
        switch self {
        case .empty: "message has no frames"
        case .wrongSignature: "frame 0: not the ABL protocol signature"
        case .unsupportedVersion(let major): "frame 0: unsupported protocol version \(major)"
        case .missingCommand: "message has only the signature frame (no command)"
        case .commandFrameSize(let size): "frame 1: command frame is \(size) bytes, expected 1"
        case .unknownCommand(let byte): "frame 1: unknown command \(byte)"
        case .wrongFrameCount(let command, let count):
            "\(command.wireName): \(count) frames, expected \(command.frameCount)"
        case .frameTooLarge(let index, let size): "frame \(index): \(size) bytes exceeds the limit"
        case .malformedHeader(let text), .invalidName(let text), .overLimit(let text): text
        }
    }

    /// The DISCONNECT the coordinator answers when the peer speaks another protocol (signature or version
    /// refused); nil for every other error, which is dropped silently (and counted).
    public var refusal: Disconnect? {
        switch self {
        case .unsupportedVersion(let major): .unsupportedVersion(major)
        case .wrongSignature: Disconnect(reason: "unsupported protocol signature")
        default: nil
        }
    }
}

extension Disconnect {
    /// The answer to a message from an unknown or expired session.
    public static let unknownSession = Disconnect(reason: "unknown session")

    /// Sent to every session when the last cell is done or failed (nothing is left to assign).
    public static let sweepFinished = Disconnect(reason: "sweep finished")

    /// The answer to a message of another major protocol version.
    public static func unsupportedVersion(_ major: UInt8) -> Disconnect {
        Disconnect(reason: "unsupported protocol version \(major)")
    }
}
