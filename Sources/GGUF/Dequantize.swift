/// Decodes `dst.count` elements of type `type` from `src` into `dst`.
///
/// `src.count` must equal `dst.count / type.blockElements × type.blockBytes` and
/// `dst.count` must be a whole number of blocks. Block layouts follow ggml
/// (ggml/src/ggml-common.h, `dequantize_row_*` in ggml-quants.c); `d`, `m`, `dmin` are f16:
/// - Q4_0 (18 B / 32): `d`, 16 bytes; element j = (low nibble of byte j − 8)·d, element j+16 = (high nibble − 8)·d.
/// - Q4_1 (20 B / 32): `d`, `m`, 16 bytes; element = nibble·d + m, same nibble order as Q4_0.
/// - Q8_0 (34 B / 32): `d`, 32 × int8; element j = q[j]·d.
/// - Q4_K (144 B / 256): `d`, `dmin`, 12 bytes of packed 6-bit (scale, min) pairs for 8 sub-blocks of 32,
///   128 bytes of nibbles; element = d·scale·q − dmin·min.
/// - Q6_K (210 B / 256): 128 bytes low nibbles `ql`, 64 bytes high 2-bit pairs `qh`, 16 int8 scales, `d`;
///   element = d·scale·(q − 32) with q a 6-bit value.
/// - F32, F16, BF16: one element per 4 / 2 / 2 bytes, little-endian.
/// - Throws: `GGUFError.dequantizationUnsupported` or `.sizeMismatch`.
public func dequantize(_ type: GGMLType, from src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Float>) throws {
    guard type.isDequantizable else { throw GGUFError.dequantizationUnsupported(type: type) }
    let expected = type.byteCount(forElements: dst.count)
    guard let expectedBytes = expected, expectedBytes == src.count else {
        throw GGUFError.sizeMismatch(type: type, elements: dst.count, bytes: src.count, expectedBytes: expected)
    }
    let blocks = dst.count / type.blockElements
    guard blocks > 0 else { return }
    let out = dst.baseAddress!
    let base = src.baseAddress!
    @inline(__always) func u16(_ offset: Int) -> UInt16 { UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    @inline(__always) func u8(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }
    @inline(__always) func half(_ offset: Int) -> Float { floatFromHalfBits(u16(offset)) }

    switch type {
    case .f32:
        for i in 0 ..< blocks {
            out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
    case .f16:
        for i in 0 ..< blocks { out[i] = half(2 * i) }
    case .bf16:
        for i in 0 ..< blocks { out[i] = floatFromBFloat16Bits(u16(2 * i)) }
    case .q8_0:
        for b in 0 ..< blocks {
            let o = b * 34
            let d = half(o)
            let y = out + b * 32
            for j in 0 ..< 32 { y[j] = Float(Int8(bitPattern: u8(o + 2 + j))) * d }
        }
    case .q4_0:
        for b in 0 ..< blocks {
            let o = b * 18
            let d = half(o)
            let y = out + b * 32
            for j in 0 ..< 16 {
                let q = u8(o + 2 + j)
                y[j] = Float(Int(q & 0x0F) - 8) * d
                y[j + 16] = Float(Int(q >> 4) - 8) * d
            }
        }
    case .q4_1:
        for b in 0 ..< blocks {
            let o = b * 20
            let d = half(o)
            let m = half(o + 2)
            let y = out + b * 32
            for j in 0 ..< 16 {
                let q = u8(o + 4 + j)
                y[j] = Float(q & 0x0F) * d + m
                y[j + 16] = Float(q >> 4) * d + m
            }
        }
    case .q4_K:
        for b in 0 ..< blocks {
            let o = b * 144
            let d = half(o)
            let dmin = half(o + 2)
            let scales = o + 4
            var q = o + 16
            var y = out + b * 256
            for pair in 0 ..< 4 {
                let (sc1, m1) = q4KScaleMin(2 * pair, scales: scales, u8)
                let (sc2, m2) = q4KScaleMin(2 * pair + 1, scales: scales, u8)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                for l in 0 ..< 32 { y[l] = d1 * Float(u8(q + l) & 0x0F) - min1 }
                for l in 0 ..< 32 { y[32 + l] = d2 * Float(u8(q + l) >> 4) - min2 }
                q += 32
                y += 64
            }
        }
    case .q6_K:
        for b in 0 ..< blocks {
            let o = b * 210
            var ql = o
            var qh = o + 128
            var sc = o + 192
            let d = half(o + 208)
            var y = out + b * 256
            for _ in 0 ..< 2 {
                for l in 0 ..< 32 {
                    let isc = l / 16
                    let h = u8(qh + l)
                    let q1 = Int((u8(ql + l) & 0x0F) | ((h & 3) << 4)) - 32
                    let q2 = Int((u8(ql + l + 32) & 0x0F) | (((h >> 2) & 3) << 4)) - 32
                    let q3 = Int((u8(ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32
                    let q4 = Int((u8(ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32
                    y[l] = d * Float(Int8(bitPattern: u8(sc + isc))) * Float(q1)
                    y[l + 32] = d * Float(Int8(bitPattern: u8(sc + isc + 2))) * Float(q2)
                    y[l + 64] = d * Float(Int8(bitPattern: u8(sc + isc + 4))) * Float(q3)
                    y[l + 96] = d * Float(Int8(bitPattern: u8(sc + isc + 6))) * Float(q4)
                }
                y += 128
                ql += 64
                qh += 32
                sc += 8
            }
        }
    default:
        throw GGUFError.dequantizationUnsupported(type: type)
    }
}

/// Unpacks sub-block `j` (0..<8) of Q4_K's 12-byte scale field into its 6-bit (scale, min) pair
/// (ggml `get_scale_min_k4`): sub-blocks 0-3 use the low 6 bits of bytes j and j+4; 4-7 combine
/// a nibble of byte j+4 with the top 2 bits of bytes j−4 and j.
@inline(__always)
func q4KScaleMin(_ j: Int, scales s: Int, _ u8: (Int) -> UInt8) -> (UInt8, UInt8) {
    if j < 4 {
        return (u8(s + j) & 63, u8(s + j + 4) & 63)
    }
    let scale = (u8(s + j + 4) & 0x0F) | ((u8(s + j - 4) >> 6) << 4)
    let min = (u8(s + j + 4) >> 4) | ((u8(s + j) >> 6) << 4)
    return (scale, min)
}
