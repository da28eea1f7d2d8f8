import GGUF

/// Reference quantizers producing ggml block layouts (the inverse of `GGUF.dequantize`).
///
/// They follow ggml's `quantize_row_*_ref` rounding, so the worst-case error per element is
/// half a quantization step: Q8_0 `amax/254`, Q4_0 `amax/16` (step `amax/8`), Q4_1 `(max−min)/30`.
public enum Quantizer {
    /// Types `quantize` can produce.
    public static let supportedTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1]

    /// Encodes `values` (a whole number of blocks) as `type`.
    public static func quantize(_ values: [Float], as type: GGMLType) -> [UInt8] {
        precondition(values.count % type.blockElements == 0,
                     "\(values.count) values is not a whole number of \(type) blocks of \(type.blockElements)")
        var w = ByteWriter()
        switch type {
        case .f32:
            for v in values { w.write(v) }
        case .f16:
            for v in values { w.write(halfBitsFromFloat(v)) }
        case .bf16:
            for v in values { w.write(bfloat16BitsFromFloat(v)) }
        case .q8_0:
            for block in stride(from: 0, to: values.count, by: 32) {
                let x = values[block ..< block + 32]
                let amax = x.map(abs).max()!
                let d = amax / 127
                let id: Float = d != 0 ? 1 / d : 0
                w.write(halfBitsFromFloat(d))
                for v in x { w.write(Int8((v * id).rounded())) }
            }
        case .q4_0:
            for block in stride(from: 0, to: values.count, by: 32) {
                let x = Array(values[block ..< block + 32])
                var max: Float = 0, amax: Float = 0
                for v in x where abs(v) > amax { amax = abs(v); max = v }
                let d = max / -8
                let id: Float = d != 0 ? 1 / d : 0
                w.write(halfBitsFromFloat(d))
                for j in 0 ..< 16 {
                    let q0 = UInt8(Swift.min(15, Int8(x[j] * id + 8.5)))
                    let q1 = UInt8(Swift.min(15, Int8(x[j + 16] * id + 8.5)))
                    w.write(q0 | (q1 << 4))
                }
            }
        case .q4_1:
            for block in stride(from: 0, to: values.count, by: 32) {
                let x = Array(values[block ..< block + 32])
                let lo = x.min()!, hi = x.max()!
                let d = (hi - lo) / 15
                let id: Float = d != 0 ? 1 / d : 0
                w.write(halfBitsFromFloat(d))
                w.write(halfBitsFromFloat(lo))
                for j in 0 ..< 16 {
                    let q0 = UInt8(Swift.min(15, Int8((x[j] - lo) * id + 0.5)))
                    let q1 = UInt8(Swift.min(15, Int8((x[j + 16] - lo) * id + 0.5)))
                    w.write(q0 | (q1 << 4))
                }
            }
        default:
            preconditionFailure("Quantizer does not produce \(type); supported: \(supportedTypes)")
        }
        return w.bytes
    }
}
