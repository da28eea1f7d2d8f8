import GGUF

/// Appends little-endian values and GGUF strings to a byte array (the mirror of the reader's cursor).
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ value: Float) { write(value.bitPattern) }
    public mutating func write(_ value: Double) { write(value.bitPattern) }

    /// GGUF string: u64 byte count, then the UTF-8 bytes.
    public mutating func writeString(_ s: String) {
        write(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }

    public mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// Zero bytes up to the next multiple of `alignment`.
    public mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    /// A value's payload without its type code (arrays write element type, count, then elements).
    public mutating func writeValue(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): write(v)
        case .int8(let v): write(v)
        case .uint16(let v): write(v)
        case .int16(let v): write(v)
        case .uint32(let v): write(v)
        case .int32(let v): write(v)
        case .float32(let v): write(v)
        case .bool(let v): write(UInt8(v ? 1 : 0))
        case .string(let v): writeString(v)
        case .uint64(let v): write(v)
        case .int64(let v): write(v)
        case .float64(let v): write(v)
        case .array(let elements):
            let code = elements.first?.typeCode ?? 0
            precondition(elements.allSatisfy { $0.typeCode == code }, "GGUF arrays are homogeneous")
            write(code)
            write(UInt64(elements.count))
            for e in elements { writeValue(e) }
        }
    }
}
