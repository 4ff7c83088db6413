// JSONBoolean: a JSON boolean told apart from a JSON number in what JSONSerialization decodes.
import Foundation

extension NSNumber {
    /// Whether this number is a JSON boolean (`true`, `false`) as `JSONSerialization` decodes it, rather than a
    /// number. `is Bool` cannot tell them apart (it holds for every NSNumber equal to 0 or 1); a boolean's
    /// `objCType` is "c".
    public var isJSONBoolean: Bool { String(cString: objCType) == "c" }
}
