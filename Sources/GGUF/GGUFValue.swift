/// One metadata value of a GGUF file, tagged with its on-disk type.
///
/// GGUF value type codes (gguf spec, `gguf_metadata_value_type`):
/// 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array,
/// 10 u64, 11 i64, 12 f64. Arrays are homogeneous on disk (one element type,
/// then a u64 count) and may nest.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array([GGUFValue])
    case uint64(UInt64), int64(Int64), float64(Double)

    /// The on-disk type code of this value (the `gguf_metadata_value_type`).
    public var typeCode: UInt32 {
        switch self {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    /// A short type name for error messages ("u32", "string", "array", ...).
    public var typeName: String { GGUFValue.typeName(code: typeCode) }

    /// Name of a value type code, or "type N" when unknown.
    public static func typeName(code: UInt32) -> String {
        switch code {
        case 0: return "u8"
        case 1: return "i8"
        case 2: return "u16"
        case 3: return "i16"
        case 4: return "u32"
        case 5: return "i32"
        case 6: return "f32"
        case 7: return "bool"
        case 8: return "string"
        case 9: return "array"
        case 10: return "u64"
        case 11: return "i64"
        case 12: return "f64"
        default: return "type \(code)"
        }
    }

    /// Any integer case as `Int`; nil for non-integers or a `uint64` above `Int.max`.
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// Any numeric case (float or integer) as `Double`; nil for bool, string and array.
    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    /// The value of a `bool` case.
    public var bool: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    /// The value of a `string` case.
    public var string: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    /// The elements of an `array` case.
    public var array: [GGUFValue]? {
        if case .array(let v) = self { return v }
        return nil
    }

    /// The elements of an array of strings; nil if this is not an array or any element is not a string.
    public var stringArray: [String]? {
        guard case .array(let values) = self else { return nil }
        var out: [String] = []
        out.reserveCapacity(values.count)
        for value in values {
            guard case .string(let s) = value else { return nil }
            out.append(s)
        }
        return out
    }

    /// The elements of an array of integers as `Int`; nil if any element is not an integer.
    public var intArray: [Int]? {
        guard case .array(let values) = self else { return nil }
        var out: [Int] = []
        out.reserveCapacity(values.count)
        for value in values {
            guard let i = value.int else { return nil }
            out.append(i)
        }
        return out
    }

    /// The elements of an array of numbers as `Double`; nil if any element is not numeric.
    public var doubleArray: [Double]? {
        guard case .array(let values) = self else { return nil }
        var out: [Double] = []
        out.reserveCapacity(values.count)
        for value in values {
            guard let d = value.double else { return nil }
            out.append(d)
        }
        return out
    }
}
