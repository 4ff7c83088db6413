// Fixtures: loads the committed reference files written by scripts/fixtures/*.py.
import Foundation

enum Fixtures {
    static func json(_ name: String) throws -> [String: Any] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw FixtureError(name: name)
        }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let dictionary = object as? [String: Any] else { throw FixtureError(name: name) }
        return dictionary
    }

    struct FixtureError: Error, CustomStringConvertible {
        let name: String
        var description: String { "fixture \(name).json missing or malformed" }
    }
}

/// Parses a non-negative decimal integer of any size into little-endian 32-bit words.
func decimalToWords(_ text: String) -> [UInt32] {
    var words: [UInt32] = [0]
    for digit in text.utf8 {
        var carry = UInt64(digit - 48)
        for i in words.indices {
            let value = UInt64(words[i]) * 10 + carry
            words[i] = UInt32(truncatingIfNeeded: value)
            carry = value >> 32
        }
        if carry > 0 { words.append(UInt32(carry)) }
    }
    return words
}

func hex64(_ value: UInt64) -> String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
