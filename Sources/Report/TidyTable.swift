// TidyTable: a CSV table with one type per column (integer, float, boolean, text), as the tidy exports write it.
import AblateSupport
import Foundation

/// The type of a tidy column, so that `pandas.read_csv` or Python's `csv` plus one cast per column reads it.
public enum TidyType: String, Sendable, Equatable {
    /// A decimal integer (`-?[0-9]+`).
    case integer
    /// A decimal number as Swift's shortest round-trip form prints it (`0.8125`, `1e-05`).
    case float
    /// `true` or `false`.
    case boolean
    /// Any text, quoted as RFC 4180 says where needed.
    case text
}

/// One field of a tidy table; `missing` is the empty field (a value that does not apply or was not recorded).
public enum TidyValue: Sendable, Equatable {
    case integer(Int)
    /// An integer column's value beyond `Int` (a seed of 2⁶³ or more); written like any integer.
    case unsigned(UInt64)
    case float(Double)
    case boolean(Bool)
    case text(String)
    case missing

    /// A float, or `missing` for nil and non-finite values.
    static func number(_ value: Double?) -> TidyValue {
        guard let value, value.isFinite else { return .missing }
        return .float(value)
    }

    /// An integer, or `missing` for nil.
    static func count(_ value: Int?) -> TidyValue { value.map(TidyValue.integer) ?? .missing }

    /// Text, or `missing` for nil.
    static func string(_ value: String?) -> TidyValue { value.map(TidyValue.text) ?? .missing }

    /// The CSV field.
    var field: String {
        switch self {
        case .integer(let value): return String(value)
        case .unsigned(let value): return String(value)
        case .float(let value): return "\(value)"
        case .boolean(let value): return value ? "true" : "false"
        case .text(let value): return TidyTable.quote(value)
        case .missing: return ""
        }
    }

    /// Whether this value may stand in a column of `type`.
    func fits(_ type: TidyType) -> Bool {
        switch (self, type) {
        case (.missing, _), (.integer, .integer), (.integer, .float), (.unsigned, .integer), (.unsigned, .float),
            (.float, .float), (.boolean, .boolean),
            (.text, .text):
            return true
        default: return false
        }
    }
}

/// A column: its name and type.
public struct TidyColumn: Sendable, Equatable {
    public var name: String
    public var type: TidyType

    public init(_ name: String, _ type: TidyType) {
        self.name = name
        self.type = type
    }
}

/// A table of typed columns; each row maps column names to values (absent names are missing values).
public struct TidyTable: Sendable {
    public var columns: [TidyColumn]
    public var rows: [[String: TidyValue]] = []

    public init(columns: [TidyColumn]) { self.columns = columns }

    /// The CSV text: the header, then one line per row, each ending in `\n`. A value whose kind does not fit its
    /// column's type is a programming error caught by the tests (`mismatches`), written as it is.
    public var csv: String {
        var lines = [columns.map { Self.quote($0.name) }.joined(separator: ",")]
        for row in rows {
            lines.append(columns.map { (row[$0.name] ?? .missing).field }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "row N column C" for each value that does not fit its column's type (empty for a well-formed table).
    public var mismatches: [String] {
        rows.enumerated().flatMap { index, row in
            columns.compactMap { column in
                (row[column.name] ?? .missing).fits(column.type) ? nil : "row \(index + 1) column \(column.name)"
            }
        }
    }

    /// `field` quoted where RFC 4180 needs it (a comma, a quote or a line break).
    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// The scalar entries of a JSON object as tidy values, each with the narrowest type that holds every row's value.
enum TidyObjectColumns {
    /// Decodes `json` (an object) into name → value: integers, floats, booleans and strings as themselves, arrays and
    /// objects as their compact JSON text, null as missing. Not an object: no entries.
    static func values(_ json: String?) -> [String: TidyValue] {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        else { return [:] }
        var values: [String: TidyValue] = [:]
        for (key, entry) in object { values[key] = value(entry) }
        return values
    }

    private static func value(_ value: Any) -> TidyValue {
        if let number = value as? NSNumber {
            // A JSON boolean bridges to NSNumber too.
            if number.isJSONBoolean { return .boolean(number.boolValue) }
            switch String(cString: number.objCType) {
            case "d", "f": return .number(number.doubleValue)
            default: return .integer(number.intValue)
            }
        }
        if let text = value as? String { return .text(text) }
        if value is NSNull { return .missing }
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        else { return .missing }
        return .text(String(decoding: data, as: UTF8.self))
    }

    /// The type of a column holding `values`: integer when all are integers, float when all are numbers, boolean
    /// when all are booleans, else text (and a mixed column's non-text values become text).
    static func type(of values: [TidyValue]) -> TidyType {
        let present = values.filter { $0 != .missing }
        if present.allSatisfy({ if case .integer = $0 { return true } else { return false } }) { return .integer }
        if present.allSatisfy({ $0.fits(.float) }) { return .float }
        if present.allSatisfy({ $0.fits(.boolean) }) { return .boolean }
        return .text
    }

    /// `value` in a column of `type`: as it is when it fits, else its field text.
    static func coerce(_ value: TidyValue, to type: TidyType) -> TidyValue {
        if value.fits(type) { return value }
        switch value {
        case .integer(let v): return .text(String(v))
        case .unsigned(let v): return .text(String(v))
        case .float(let v): return .text("\(v)")
        case .boolean(let v): return .text(v ? "true" : "false")
        case .text, .missing: return value
        }
    }
}
