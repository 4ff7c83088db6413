// ParamsField: the checks of ASSIGN's `params` text — a JSON object of well-named params with scalar or flat-list values.
import Foundation

/// What a peer may send as ASSIGN's `params`: a JSON object of at most `FieldLimits.maxParams` names, each of ASCII
/// letters, digits and `_` (not starting with a digit, at most `FieldLimits.maxParamNameLength` characters, no two
/// equal ignoring case), whose values are texts, numbers, bools or lists of them. The text is data: nothing is
/// sized, named or opened by it.
public enum ParamsField {
    /// The outcome of a check.
    public enum Verdict: Equatable, Sendable {
        case valid
        case tooMany(Int)
        case badName(String)
        case malformed(String)
    }

    /// Checks `text` (its size is checked by the caller against `FieldLimits.maxParamsBytes` first).
    public static func check(_ text: String) -> Verdict {
        guard text.utf8.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") else {
            return .malformed("is not a JSON object")
        }
        let shape: ParamsShape
        do {
            shape = try JSONDecoder().decode(ParamsShape.self, from: Data(text.utf8))
        } catch {
            return .malformed("is not an object of texts, numbers, bools or lists of them")
        }
        guard shape.names.count <= FieldLimits.maxParams else { return .tooMany(shape.names.count) }
        var upperCased: Set<String> = []
        for name in shape.names.sorted() {
            if let problem = nameProblem(name) {
                return .badName("name '\(PrintableText.oneLine(name, limit: 80))' \(problem)")
            }
            if !upperCased.insert(name.uppercased()).inserted {
                return .badName("name '\(name)' differs from another only in case")
            }
        }
        return .valid
    }

    /// Why `name` is not a param name; nil when it is one.
    static func nameProblem(_ name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first else { return "is empty" }
        guard scalars.count <= FieldLimits.maxParamNameLength else {
            return "is longer than \(FieldLimits.maxParamNameLength) characters"
        }
        let allowed = scalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
        guard allowed else { return "uses characters other than ASCII letters, digits and '_'" }
        guard !("0"..."9").contains(first) else { return "starts with a digit" }
        return nil
    }
}

/// The names of a params object whose every value has the allowed shape.
private struct ParamsShape: Decodable {
    var names: [String]

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: ParamKey.self)
        names = container.allKeys.map(\.stringValue)
        guard names.count <= FieldLimits.maxParams else { return }
        for key in container.allKeys { _ = try container.decode(ParamShapeValue.self, forKey: key) }
    }
}

/// A scalar (text, number, bool) or a list of scalars.
private struct ParamShapeValue: Decodable {
    init(from decoder: Decoder) throws {
        if (try? ParamShapeScalar(from: decoder)) != nil { return }
        var list = try decoder.unkeyedContainer()
        while !list.isAtEnd { _ = try list.decode(ParamShapeScalar.self) }
    }
}

/// A text, a number or a bool; `null` and containers are refused.
private struct ParamShapeScalar: Decodable {
    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "null")
        }
        if (try? container.decode(Bool.self)) != nil { return }
        if (try? container.decode(Double.self)) != nil { return }
        _ = try container.decode(String.self)
    }
}

private struct ParamKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
