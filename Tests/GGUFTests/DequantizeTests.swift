import GGUF
import TestSupport
import Testing

/// Block layouts checked against hand-built blocks and an element-by-element reference
/// written from the ggml struct definitions (a different formulation from the library's loops).
struct DequantizeTests {
    func decode(_ type: GGMLType, _ bytes: [UInt8], count: Int) throws -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        try bytes.withUnsafeBytes { src in
            try out.withUnsafeMutableBufferPointer { try dequantize(type, from: src, into: $0) }
        }
        return out
    }

    @Test func q4_0UsesLowNibblesForFirstHalf() throws {
        var w = ByteWriter()
        w.write(halfBitsFromFloat(0.5))
        for j in 0 ..< 16 { w.write(UInt8(j) | UInt8(15 - j) << 4) }
        let y = try decode(.q4_0, w.bytes, count: 32)
        for j in 0 ..< 16 {
            #expect(y[j] == Float(j - 8) * 0.5)
            #expect(y[j + 16] == Float(7 - j) * 0.5)
        }
    }

    @Test func q4_1AddsTheMinimum() throws {
        var w = ByteWriter()
        w.write(halfBitsFromFloat(0.25))
        w.write(halfBitsFromFloat(-1))
        for j in 0 ..< 16 { w.write(UInt8(j) | UInt8(j) << 4) }
        let y = try decode(.q4_1, w.bytes, count: 32)
        for j in 0 ..< 16 {
            #expect(y[j] == Float(j) * 0.25 - 1)
            #expect(y[j + 16] == y[j])
        }
    }

    @Test func q8_0IsSignedBytesTimesScale() throws {
        var w = ByteWriter()
        w.write(halfBitsFromFloat(2))
        for j in 0 ..< 32 { w.write(Int8(j * 8 - 128)) }
        let y = try decode(.q8_0, w.bytes, count: 32)
        for j in 0 ..< 32 { #expect(y[j] == Float(j * 8 - 128) * 2) }
    }

    @Test func halfAndBFloat16Conversions() {
        #expect(floatFromHalfBits(0x3C00) == 1)
        #expect(floatFromHalfBits(0xC000) == -2)
        #expect(floatFromHalfBits(0x7BFF) == 65504)
        #expect(floatFromHalfBits(0x0001) == 0x1p-24)
        #expect(floatFromHalfBits(0x7C00) == .infinity)
        #expect(floatFromHalfBits(0x7E00).isNaN)
        var mismatches = 0
        for bits in UInt16.min ... UInt16.max where !floatFromHalfBits(bits).isNaN {
            if halfBitsFromFloat(floatFromHalfBits(bits)) != bits { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(halfBitsFromFloat(1 + 0x1p-11) == 0x3C00)  // tie rounds to even
        #expect(halfBitsFromFloat(1e6) == 0x7C00)
        #expect(floatFromBFloat16Bits(0x3F80) == 1)
        #expect(bfloat16BitsFromFloat(1) == 0x3F80)
        #expect(bfloat16BitsFromFloat(-3.5) == 0xC060)
    }

    /// Q4_K element i: sub-block s = i/32 has a 6-bit scale and min; its 4-bit value sits in byte
    /// (s/2)·32 + i%32 of qs, low nibble for even s, high for odd.
    func referenceQ4K(_ block: [UInt8]) -> [Float] {
        let d = floatFromHalfBits(UInt16(block[0]) | UInt16(block[1]) << 8)
        let dmin = floatFromHalfBits(UInt16(block[2]) | UInt16(block[3]) << 8)
        let sc = Array(block[4 ..< 16]), qs = Array(block[16 ..< 144])
        func scaleMin(_ s: Int) -> (Int, Int) {
            // 12 bytes: bytes 0-3 low 6 bits = scales 0-3, bytes 4-7 low 6 bits = mins 0-3,
            // bytes 8-11 = (scale 4-7 low 4 bits | min 4-7 low 4 bits << 4); top 2 bits of
            // bytes 0-3 / 4-7 extend scales / mins 4-7.
            if s < 4 { return (Int(sc[s] & 63), Int(sc[s + 4] & 63)) }
            let scale = Int(sc[s + 4] & 15) + Int(sc[s - 4] >> 6) * 16
            let min = Int(sc[s + 4] >> 4) + Int(sc[s] >> 6) * 16
            return (scale, min)
        }
        return (0 ..< 256).map { i in
            let s = i / 32
            let byte = qs[(s / 2) * 32 + i % 32]
            let q = s % 2 == 0 ? byte & 15 : byte >> 4
            let (scale, min) = scaleMin(s)
            return d * Float(scale) * Float(q) - dmin * Float(min)
        }
    }

    /// Q6_K element i: half n = i/128, quarter g = (i%128)/32, l = i%32. Low 4 bits from
    /// ql[n·64 + l + 32·(g%2)] (low nibble for g<2, high for g≥2), high 2 bits from
    /// qh[n·32 + l] >> 2g, signed scale sc[n·8 + l/16 + 2g]; value = d·scale·(q − 32).
    func referenceQ6K(_ block: [UInt8]) -> [Float] {
        let ql = Array(block[0 ..< 128]), qh = Array(block[128 ..< 192]), sc = Array(block[192 ..< 208])
        let d = floatFromHalfBits(UInt16(block[208]) | UInt16(block[209]) << 8)
        return (0 ..< 256).map { i in
            let n = i / 128, g = (i % 128) / 32, l = i % 32
            let lowByte = ql[n * 64 + l + 32 * (g % 2)]
            let low = g < 2 ? lowByte & 15 : lowByte >> 4
            let high = (qh[n * 32 + l] >> (2 * g)) & 3
            let q = Int(low | high << 4) - 32
            let scale = Int8(bitPattern: sc[n * 8 + l / 16 + 2 * g])
            return d * Float(scale) * Float(q)
        }
    }

    func randomBlock(_ rng: inout SplitMix64, bytes: Int, halfAt offsets: [Int]) -> [UInt8] {
        var block = rng.bytes(count: bytes)
        for o in offsets {
            // Keep scales finite and modest: a half in ±[2^-10, 2^-6].
            let h = halfBitsFromFloat(rng.nextSymmetricFloat(bound: 1) * 0x1p-6)
            block[o] = UInt8(h & 0xFF)
            block[o + 1] = UInt8(h >> 8)
        }
        return block
    }

    @Test func q4_KMatchesElementwiseReference() throws {
        var rng = SplitMix64(seed: 11)
        for _ in 0 ..< 50 {
            let a = randomBlock(&rng, bytes: 144, halfAt: [0, 2]), b = randomBlock(&rng, bytes: 144, halfAt: [0, 2])
            let y = try decode(.q4_K, a + b, count: 512)
            #expect(y == referenceQ4K(a) + referenceQ4K(b))
        }
    }

    @Test func q6_KMatchesElementwiseReference() throws {
        var rng = SplitMix64(seed: 12)
        for _ in 0 ..< 50 {
            let a = randomBlock(&rng, bytes: 210, halfAt: [208]), b = randomBlock(&rng, bytes: 210, halfAt: [208])
            let y = try decode(.q6_K, a + b, count: 512)
            #expect(y == referenceQ6K(a) + referenceQ6K(b))
        }
    }

    @Test func blockSizesMatchGGML() {
        let expected: [GGMLType: (Int, Int)] = [
            .f32: (1, 4), .f16: (1, 2), .bf16: (1, 2), .q4_0: (32, 18), .q4_1: (32, 20),
            .q8_0: (32, 34), .q4_K: (256, 144), .q6_K: (256, 210), .q5_K: (256, 176),
        ]
        for (type, (elements, bytes)) in expected {
            #expect(type.blockElements == elements && type.blockBytes == bytes, "\(type)")
        }
        #expect(GGMLType.q4_1.bitsPerElement == 5)
        #expect(GGMLType.q8_0.byteCount(forElements: 576) == 612)
        #expect(GGMLType.q8_0.byteCount(forElements: 100) == nil)
    }
}
