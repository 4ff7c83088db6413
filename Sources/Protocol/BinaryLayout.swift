// BinaryLayout: a big-endian byte writer and a bounds-checked reader.

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
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    public mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
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
