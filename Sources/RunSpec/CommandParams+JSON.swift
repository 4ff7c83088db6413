// CommandParams+JSON: reads params back from their JSON object (ASSIGN's `params`), keeping integers and numbers apart.

/// Why a params JSON text cannot be read.
public struct CommandParamsError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension CommandParams {
    /// Params from a JSON object of names → scalars or lists of scalars (the form `canonicalJSON` writes; any
    /// whitespace allowed). A number written with `.`, `e` or `E` is a number, otherwise an integer, so the values
    /// and their placeholder texts are those the coordinator had.
    /// - Throws: `CommandParamsError` for anything else: another JSON shape, `null`, nested lists or objects, a
    ///   duplicate or badly spelled name, a non-finite number or an integer out of range.
    public init(json: String) throws(CommandParamsError) {
        var reader = ParamsJSONReader(Array(json.utf8))
        self = try reader.object()
    }
}

/// A reader of the restricted JSON grammar of params: one object whose values are scalars or flat lists.
private struct ParamsJSONReader {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func object() throws(CommandParamsError) -> CommandParams {
        skipSpace()
        try expect(UInt8(ascii: "{"))
        var values: [String: ParamValue] = [:]
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipSpace()
                let name = try string()
                if let problem = CommandParams.nameProblem(name) { throw CommandParamsError("'\(name)': \(problem)") }
                guard values[name] == nil else { throw CommandParamsError("duplicate param '\(name)'") }
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                values[name] = try value(of: name)
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "}"))
                break
            }
        }
        skipSpace()
        guard index == bytes.count else { throw CommandParamsError("text after the params object") }
        return CommandParams(values)
    }

    mutating func value(of name: String) throws(CommandParamsError) -> ParamValue {
        guard peek() == UInt8(ascii: "[") else { return .scalar(try scalar(of: name)) }
        index += 1
        var items: [ParamScalar] = []
        skipSpace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return .list(items)
        }
        while true {
            skipSpace()
            items.append(try scalar(of: name))
            skipSpace()
            if peek() == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(UInt8(ascii: "]"))
            return .list(items)
        }
    }

    mutating func scalar(of name: String) throws(CommandParamsError) -> ParamScalar {
        guard let byte = peek() else { throw CommandParamsError("param '\(name)': the text ends before its value") }
        switch byte {
        case UInt8(ascii: "\""): return .text(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number(of: name)
        default: throw CommandParamsError("param '\(name)': expected a text, number, bool or a list of them")
        }
    }

    mutating func number(of name: String) throws(CommandParamsError) -> ParamScalar {
        let start = index
        let allowed = Set("+-.eE0123456789".utf8)
        while let byte = peek(), allowed.contains(byte) { index += 1 }
        let token = String(decoding: bytes[start..<index], as: UTF8.self)
        if token.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            guard isJSONNumber(token), let value = Double(token), value.isFinite else {
                throw CommandParamsError("param '\(name)': '\(token)' is not a finite number")
            }
            return .number(value)
        }
        guard isJSONNumber(token), let value = Int(token) else {
            throw CommandParamsError("param '\(name)': '\(token)' is not an integer in range")
        }
        return .integer(value)
    }

    /// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    private func isJSONNumber(_ token: String) -> Bool {
        var rest = Substring(token)
        func digits() -> Int {
            let count = rest.prefix { $0.isASCII && $0.isNumber }.count
            rest = rest.dropFirst(count)
            return count
        }
        if rest.first == "-" { rest = rest.dropFirst() }
        if rest.first == "0" {
            rest = rest.dropFirst()
        } else if digits() == 0 {
            return false
        }
        if rest.first == "." {
            rest = rest.dropFirst()
            if digits() == 0 { return false }
        }
        if rest.first == "e" || rest.first == "E" {
            rest = rest.dropFirst()
            if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
            if digits() == 0 { return false }
        }
        return rest.isEmpty
    }

    mutating func string() throws(CommandParamsError) -> String {
        try expect(UInt8(ascii: "\""))
        var scalars = String.UnicodeScalarView()
        var plain: [UInt8] = []
        func flush() {
            scalars.append(contentsOf: String(decoding: plain, as: UTF8.self).unicodeScalars)
            plain.removeAll()
        }
        while let byte = peek() {
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush()
                scalars.append(try escape())
            case 0..<0x20:
                throw CommandParamsError("a control character inside a JSON string")
            default:
                plain.append(byte)
            }
        }
        throw CommandParamsError("an unterminated JSON string")
    }

    private mutating func escape() throws(CommandParamsError) -> Unicode.Scalar {
        guard let byte = peek() else { throw CommandParamsError("an unterminated JSON string") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{8}"
        case UInt8(ascii: "f"): return "\u{C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try hex4()
            if (0xD800..<0xDC00).contains(high) {
                guard peek() == UInt8(ascii: "\\") else {
                    throw CommandParamsError("a lone surrogate in a JSON string")
                }
                index += 1
                guard peek() == UInt8(ascii: "u") else { throw CommandParamsError("a lone surrogate in a JSON string") }
                index += 1
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low),
                    let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                else { throw CommandParamsError("a bad surrogate pair in a JSON string") }
                return scalar
            }
            guard let scalar = Unicode.Scalar(high) else {
                throw CommandParamsError("a lone surrogate in a JSON string")
            }
            return scalar
        default:
            throw CommandParamsError("a bad escape in a JSON string")
        }
    }

    private mutating func hex4() throws(CommandParamsError) -> UInt32 {
        guard index + 4 <= bytes.count,
            let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
        else { throw CommandParamsError("a bad \\u escape in a JSON string") }
        index += 4
        return value
    }

    private mutating func literal(_ word: String) throws(CommandParamsError) {
        let expected = Array(word.utf8)
        guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else {
            throw CommandParamsError("expected '\(word)'")
        }
        index += expected.count
    }

    private mutating func expect(_ byte: UInt8) throws(CommandParamsError) {
        guard peek() == byte else {
            let found = peek().map { "'\(Character(Unicode.Scalar($0)))'" } ?? "the end"
            throw CommandParamsError("expected '\(Character(Unicode.Scalar(byte)))', found \(found)")
        }
        index += 1
    }

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }
}
