/// IEEE 754 binary16 bits → `Float`, exactly (every half is representable as a float).
///
/// Layout: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits. Subnormals
/// (exponent 0) are `mantissa × 2⁻²⁴`; exponent 31 is infinity or NaN.
@inlinable
public func floatFromHalfBits(_ bits: UInt16) -> Float {
    #if (os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64)
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0 {
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    #else
    return Float(Float16(bitPattern: bits))
    #endif
}

/// `Float` → IEEE binary16 bits, rounding to nearest even (overflow → ±infinity).
@inlinable
public func halfBitsFromFloat(_ value: Float) -> UInt16 {
    #if (os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64)
    let bits = value.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    if value.isNaN { return sign | 0x7E00 }
    let magnitude = abs(value)
    if magnitude >= 65520 { return sign | 0x7C00 }
    if magnitude < 0x1p-14 {
        let m = (magnitude * 0x1p24).rounded(.toNearestOrEven)
        return sign | UInt16(m)
    }
    let e = Int((bits >> 23) & 0xFF) - 127
    var m = UInt32(bits & 0x7F_FFFF)
    var exp = UInt32(e + 15)
    let round = m & 0x1FFF
    m >>= 13
    if round > 0x1000 || (round == 0x1000 && (m & 1) == 1) { m += 1 }
    if m == 0x400 { m = 0; exp += 1 }
    return sign | UInt16(exp << 10) | UInt16(m)
    #else
    return Float16(value).bitPattern
    #endif
}

/// bfloat16 bits → `Float`: the bits are the top half of an IEEE binary32.
@inlinable
public func floatFromBFloat16Bits(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

/// `Float` → bfloat16 bits, rounding to nearest even (NaN stays NaN).
@inlinable
public func bfloat16BitsFromFloat(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return UInt16(rounded >> 16)
}
