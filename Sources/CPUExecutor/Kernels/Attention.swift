/// Causal scaled dot-product attention of one query head over one sequence's cached keys and values.
///
///     score_t = (q · k_t) / sqrt(headDim)     for t in 0...lastPosition
///     out     = Σ_t softmax(score)_t · v_t
///
/// `keys`/`values` point at position 0 of this KV head in the cache, rows `rowStride` elements apart
/// (stored as `Element`: `Float` or `Float16`). `scores` needs `lastPosition + 1` floats.
/// Cost: `4 · headDim · (lastPosition + 1)` FLOPs; bytes = the K and V rows read.
/// Source: Vaswani et al., *Attention Is All You Need* (2017); GQA: Ainslie et al. (2023).
@inline(__always)
public func attendHead<Element: AttentionCacheElement>(
    into out: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>,
    keys: UnsafePointer<Element>, values: UnsafePointer<Element>, rowStride: Int,
    lastPosition: Int, headDim: Int, scores: UnsafeMutablePointer<Float>
) {
    let scale = 1 / Float(headDim).squareRoot()
    let count = lastPosition + 1
    for t in 0 ..< count {
        scores[t] = Element.dot(query, keys + t * rowStride, count: headDim) * scale
    }
    softmaxInPlace(scores, count: count)
    for i in 0 ..< headDim { out[i] = 0 }
    for t in 0 ..< count {
        Element.accumulate(into: out, values + t * rowStride, weight: scores[t], count: headDim)
    }
}

/// A KV-cache element type: F32 (exact) or F16 (llama.cpp's default, half the bytes).
public protocol AttentionCacheElement {
    static func store(_ dst: UnsafeMutablePointer<Self>, _ src: UnsafePointer<Float>, count: Int)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Self>, count: Int) -> Float
    static func accumulate(into out: UnsafeMutablePointer<Float>, _ v: UnsafePointer<Self>, weight: Float, count: Int)
}

extension Float: AttentionCacheElement {
    @inline(__always) public static func store(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        dst.update(from: src, count: count)
    }
    @inline(__always) public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        dotProduct(a, b, count: count)
    }
    @inline(__always) public static func accumulate(into out: UnsafeMutablePointer<Float>, _ v: UnsafePointer<Float>, weight: Float, count: Int) {
        for i in 0 ..< count { out[i] += weight * v[i] }
    }
}

extension Float16: AttentionCacheElement {
    @inline(__always) public static func store(_ dst: UnsafeMutablePointer<Float16>, _ src: UnsafePointer<Float>, count: Int) {
        for i in 0 ..< count { dst[i] = Float16(src[i]) }
    }
    @inline(__always) public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float16>, count: Int) -> Float {
        // 16 lanes of partial sums over a stack buffer (promoted to a register), reduced once.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { buffer in
            let acc = buffer.baseAddress!
            for l in 0 ..< 16 { acc[l] = 0 }
            var i = 0
            while i + 16 <= count {
                for l in 0 ..< 16 { acc[l] += a[i + l] * Float(b[i + l]) }
                i += 16
            }
            var sum: Float = 0
            for l in 0 ..< 16 { sum += acc[l] }
            while i < count { sum += a[i] * Float(b[i]); i += 1 }
            return sum
        }
    }
    @inline(__always) public static func accumulate(into out: UnsafeMutablePointer<Float>, _ v: UnsafePointer<Float16>, weight: Float, count: Int) {
        for i in 0 ..< count { out[i] += weight * Float(v[i]) }
    }
}
