// BinaryLayout: a big-endian byte writer, a bounds-checked reader, and hex digests as 32 raw bytes.

/// Appends big-endian (network order) integers, IEEE-754 binary64 floats and raw bytes.
public struct BinaryWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    public mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// Writes the float's IEEE-754 bit pattern, big-endian.
    public mutating func write(_ value: Double) { write(value.bitPattern) }

    public mutating func write(bytes more: some Sequence<UInt8>) { bytes.append(contentsOf: more) }
}

/// A read past the end of a binary header: which field, at which offset, how many bytes it needed and had.
public struct BinaryReadError: Error, Equatable, Sendable, CustomStringConvertible {
    public let field: String
    public let offset: Int
    public let needed: Int
    public let available: Int

    public init(field: String, offset: Int, needed: Int, available: Int) {
        self.field = field
        self.offset = offset
        self.needed = needed
        self.available = available
    }

    public var description: String {
        "\(field) at byte \(offset) needs \(needed) bytes, \(available) left"
    }
}

/// Reads big-endian values from a byte array, throwing instead of reading past its end.
public struct BinaryReader: Sendable {
    private let bytes: [UInt8]
    /// The position of the next byte to read.
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    /// Reads `count` raw bytes; `field` names them in the error.
    public mutating func readBytes(_ count: Int, field: String) throws(BinaryReadError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw BinaryReadError(field: field, offset: offset, needed: count, available: remaining)
        }
        let slice = bytes[offset..<(offset + count)]
        offset += count
        return Array(slice)
    }

    public mutating func readUInt32(field: String) throws(BinaryReadError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBigEndian(4, field: field))
    }

    public mutating func readUInt64(field: String) throws(BinaryReadError) -> UInt64 {
        try readBigEndian(8, field: field)
    }

    /// Reads an IEEE-754 binary64 bit pattern, big-endian.
    public mutating func readDouble(field: String) throws(BinaryReadError) -> Double {
        Double(bitPattern: try readBigEndian(8, field: field))
    }

    private mutating func readBigEndian(_ width: Int, field: String) throws(BinaryReadError) -> UInt64 {
        guard width <= remaining else {
            throw BinaryReadError(field: field, offset: offset, needed: width, available: remaining)
        }
        var value: UInt64 = 0
        for index in offset..<(offset + width) { value = value << 8 | UInt64(bytes[index]) }
        offset += width
        return value
    }
}

/// Hexadecimal text of byte strings; SHA-256 digests and cell ids are 64 hex digits, 32 bytes on the wire.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of an even-length hex string (either case); nil when it is not one.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// The 32 raw bytes of a 64-digit hex digest; nil when `text` is not 64 hex digits.
    public static func digestBytes(_ text: String) -> [UInt8]? {
        guard text.utf8.count == 64 else { return nil }
        return decode(text)
    }

    /// True when `text` is a digest in canonical form: exactly 64 lower-case hex digits.
    public static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case 0x30...0x39: character - 0x30
        case 0x61...0x66: character - 0x61 + 10
        case 0x41...0x46: character - 0x41 + 10
        default: nil
        }
    }
}
