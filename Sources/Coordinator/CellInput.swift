// CellInput: one input of a command cell as planned — its name, kind, content hash and where it is on this host.
import Foundation
import RunSpec
import TransferKit
import WireProtocol

/// A file or directory a command cell reads (`inputs:` of the sweep), hashed when the sweep is planned.
public struct CellInput: Sendable, Equatable {
    public var name: String
    public var kind: InputRef.Kind
    /// The content hash: a file's SHA-256, or a directory's manifest's (`InputManifest.sha256`).
    public var sha256: String
    /// The absolute path on the coordinator's host.
    public var path: String
    /// A file's size in bytes (a directory's files' bytes together).
    public var size: Int64
    /// A directory's manifest; nil for a file.
    public var manifest: InputManifest?

    public init(
        name: String, kind: InputRef.Kind, sha256: String, path: String, size: Int64, manifest: InputManifest? = nil
    ) {
        self.name = name
        self.kind = kind
        self.sha256 = sha256
        self.path = path
        self.size = size
        self.manifest = manifest
    }

    /// The identity key `inputs` of a cell with `inputs` (docs/sweep-format.md): a JSON object, names sorted, each
    /// `{"kind":"file"|"directory","sha256":"…"}`.
    public static func identityJSON(_ inputs: [CellInput]) -> String {
        let sorted = inputs.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        let fields = sorted.map {
            "\(JSONText.quoted($0.name)):{\"kind\":\(JSONText.quoted($0.kind.rawValue)),\"sha256\":\(JSONText.quoted($0.sha256))}"
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
