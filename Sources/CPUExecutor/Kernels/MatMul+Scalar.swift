import GGUF

/// Scalar references for the matmul kernels: the obvious loops over rows dequantized by the
/// GGUF reader. Tests compare `matmul(into:…)` against these.
///
/// `out[n][r] = Σ_k W[r][k] · x[n][k]`, `weights` row-major (rows, columns), `x` (batch, columns).
public func matmulReference(weights: [Float], rows: Int, columns: Int, x: [Float], batch: Int) -> [Float] {
    var out = [Float](repeating: 0, count: batch * rows)
    for n in 0 ..< batch {
        for r in 0 ..< rows {
            var s: Double = 0
            for k in 0 ..< columns { s += Double(weights[r * columns + k]) * Double(x[n * columns + k]) }
            out[n * rows + r] = Float(s)
        }
    }
    return out
}

/// The activation values the integer kernels actually multiply: each row rounded to Q8 blocks
/// (`d · q`), so that `matmulReference(weights:…, x: roundedToQ8(x))` is what the integer path computes
/// up to float summation order.
public func roundedToQ8(_ x: [Float], columns: Int) -> [Float] {
    precondition(columns % 32 == 0 && x.count % columns == 0)
    var out = [Float](repeating: 0, count: x.count)
    var q = [Int32](repeating: 0, count: columns)
    var d = [Float](repeating: 0, count: columns / 32)
    var s = [Float](repeating: 0, count: columns / 32)
    for row in 0 ..< x.count / columns {
        x.withUnsafeBufferPointer { xp in
            quantizeRowQ8(quantized: &q, scales: &d, scaledSums: &s, xp.baseAddress! + row * columns, count: columns)
        }
        for k in 0 ..< columns { out[row * columns + k] = Float(q[k]) * d[k / 32] }
    }
    return out
}
