import Foundation

/// RMS normalisation: `out[i] = x[i] / sqrt(mean(x²) + ε) · weight[i]`, shape (count).
/// Source: Zhang & Sennrich, *Root Mean Square Layer Normalization* (2019); llama.cpp `ggml_rms_norm`.
@inline(__always)
public func rmsNorm(into out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                    count: Int, epsilon: Float) {
    var acc = SIMD16<Float>()
    var i = 0
    let rx = UnsafeRawPointer(x)
    while i + 16 <= count {
        let v = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        acc.addProduct(v, v)
        i += 16
    }
    var sum = acc.sum()
    while i < count { sum += x[i] * x[i]; i += 1 }
    let scale = 1 / (sum / Float(count) + epsilon).squareRoot()
    for k in 0 ..< count { out[k] = x[k] * scale * weight[k] }
}

/// Rotary position embedding on adjacent pairs `(2i, 2i+1)` of each head ("normal" RoPE, llama.cpp
/// `GGML_ROPE_TYPE_NORM`, used for the LLAMA architecture whose Q/K weights the GGUF converter permuted):
/// `(a, b) ← (a cos θ − b sin θ, a sin θ + b cos θ)` with `θ = position · base^(−2i / headDim)`.
/// `table` holds `cos θ, sin θ` interleaved for `headDim / 2` frequencies at this position.
/// Shape of `x`: (heads, headDim), contiguous.
@inline(__always)
public func applyRotaryEmbedding(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, table: UnsafePointer<Float>) {
    for h in 0 ..< heads {
        let v = x + h * headDim
        for i in 0 ..< headDim / 2 {
            let c = table[2 * i], s = table[2 * i + 1]
            let a = v[2 * i], b = v[2 * i + 1]
            v[2 * i] = a * c - b * s
            v[2 * i + 1] = a * s + b * c
        }
    }
}

/// The table `applyRotaryEmbedding` reads: for each position `p` in `0..<positions`,
/// `headDim / 2` pairs `(cos θ, sin θ)`, `θ = p · base^(−2i/headDim)` computed in Double.
/// Shape (positions, headDim).
public func rotaryTable(positions: Int, headDim: Int, base: Double) -> [Float] {
    var table = [Float](repeating: 0, count: positions * headDim)
    for p in 0 ..< positions {
        for i in 0 ..< headDim / 2 {
            let theta = Double(p) * pow(base, -2.0 * Double(i) / Double(headDim))
            table[p * headDim + 2 * i] = Float(cos(theta))
            table[p * headDim + 2 * i + 1] = Float(sin(theta))
        }
    }
    return table
}

/// SwiGLU gate: `gate[i] ← silu(gate[i]) · up[i]`, `silu(z) = z / (1 + e^(−z))`. Shape (count).
/// Source: Shazeer, *GLU Variants Improve Transformer* (2020).
@inline(__always)
public func siluMultiply(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
    for i in 0 ..< count {
        let z = gate[i]
        gate[i] = z / (1 + expf(-z)) * up[i]
    }
}

/// `x[i] += y[i]` (residual connection). Shape (count).
@inline(__always)
public func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    for i in 0 ..< count { x[i] += y[i] }
}

/// In-place softmax `x[i] ← e^(x[i] − max) / Σ e^(x[j] − max)`. Shape (count).
@inline(__always)
public func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    var maxValue = -Float.infinity
    for i in 0 ..< count { maxValue = max(maxValue, x[i]) }
    var sum: Float = 0
    for i in 0 ..< count {
        let e = expf(x[i] - maxValue)
        x[i] = e
        sum += e
    }
    let inverse = 1 / sum
    for i in 0 ..< count { x[i] *= inverse }
}
