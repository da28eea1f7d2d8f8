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

/// Causal attention of the `group` query heads that share one KV head (grouped-query attention),
/// over one sequence's cached keys and values: `attendHead` for each of them, but every cached
/// key and value row is read and widened once for the whole group instead of once per head.
///
/// `queries`/`out`: `group` heads of `headDim` floats, contiguous. `scratch` needs
/// `group · (lastPosition + 1) + headDim` floats. Cost: `4 · headDim · (lastPosition + 1) · group`
/// FLOPs; bytes = the K and V rows read once.
@inline(__always)
public func attendGroup<Element: AttentionCacheElement>(
    into out: UnsafeMutablePointer<Float>, queries: UnsafePointer<Float>,
    keys: UnsafePointer<Element>, values: UnsafePointer<Element>, rowStride: Int,
    lastPosition: Int, headDim: Int, group: Int, scratch: UnsafeMutablePointer<Float>
) {
    let scale = 1 / Float(headDim).squareRoot()
    let count = lastPosition + 1
    let row = scratch + group * count  // one widened K or V row
    for t in 0 ..< count {
        Element.widen(into: row, keys + t * rowStride, count: headDim)
        for h in 0 ..< group {
            scratch[h * count + t] = groupDot(queries + h * headDim, row, count: headDim) * scale
        }
    }
    for h in 0 ..< group { softmaxInPlace(scratch + h * count, count: count) }
    for i in 0 ..< group * headDim { out[i] = 0 }
    for t in 0 ..< count {
        Element.widen(into: row, values + t * rowStride, count: headDim)
        for h in 0 ..< group {
            Float.accumulate(into: out + h * headDim, row, weight: scratch[h * count + t], count: headDim)
        }
    }
}

/// `Σ a[i]·b[i]` with one 16-lane accumulator filled chunk after chunk, then summed across lanes:
/// the order the F16 kernel has always used, so grouping heads leaves every score bit-identical
/// (greedy decoding on the reference prompts depends on it where the top-2 margin is 0.01).
@inline(__always)
func groupDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var acc = SIMD16<Float>()
    var i = 0
    while i + 16 <= count {
        acc.addProduct(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self),
                       rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
        i += 16
    }
    var sum = acc.sum()
    while i < count { sum += a[i] * b[i]; i += 1 }
    return sum
}

/// A KV-cache element type: F32 (exact) or F16 (llama.cpp's default, half the bytes).
public protocol AttentionCacheElement {
    static func store(_ dst: UnsafeMutablePointer<Self>, _ src: UnsafePointer<Float>, count: Int)
    /// `dst[i] = Float(src[i])`.
    static func widen(into dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Self>, count: Int)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Self>, count: Int) -> Float
    static func accumulate(into out: UnsafeMutablePointer<Float>, _ v: UnsafePointer<Self>, weight: Float, count: Int)
}

extension Float: AttentionCacheElement {
    @inline(__always) public static func widen(into dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        dst.update(from: src, count: count)
    }
    @inline(__always) public static func store(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        dst.update(from: src, count: count)
    }
    @inline(__always) public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        dotProduct(a, b, count: count)
    }
    @inline(__always) public static func accumulate(into out: UnsafeMutablePointer<Float>, _ v: UnsafePointer<Float>, weight: Float, count: Int) {
        let ro = UnsafeMutableRawPointer(out), rv = UnsafeRawPointer(v)
        let w = SIMD16<Float>(repeating: weight)
        var i = 0
        while i + 16 <= count {
            var o = ro.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            o.addProduct(rv.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self), w)
            ro.storeBytes(of: o, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { out[i] += weight * v[i]; i += 1 }
    }
}

extension Float16: AttentionCacheElement {
    @inline(__always) public static func widen(into dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float16>, count: Int) {
        let rd = UnsafeMutableRawPointer(dst), rs = UnsafeRawPointer(src)
        var i = 0
        while i + 16 <= count {
            rd.storeBytes(of: SIMD16<Float>(rs.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<Float16>.self)),
                          toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { dst[i] = Float(src[i]); i += 1 }
    }
    @inline(__always) public static func store(_ dst: UnsafeMutablePointer<Float16>, _ src: UnsafePointer<Float>, count: Int) {
        for i in 0 ..< count { dst[i] = Float16(src[i]) }
    }
    @inline(__always) public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float16>, count: Int) -> Float {
        // 16 halves widened per instruction (vcvtph2ps), one fused multiply-add per 16 lanes.
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            acc.addProduct(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self),
                           SIMD16<Float>(rb.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<Float16>.self)))
            i += 16
        }
        var sum = acc.sum()
        while i < count { sum += a[i] * Float(b[i]); i += 1 }
        return sum
    }
    @inline(__always) public static func accumulate(into out: UnsafeMutablePointer<Float>, _ v: UnsafePointer<Float16>, weight: Float, count: Int) {
        let ro = UnsafeMutableRawPointer(out), rv = UnsafeRawPointer(v)
        let w = SIMD16<Float>(repeating: weight)
        var i = 0
        while i + 16 <= count {
            var o = ro.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            o.addProduct(SIMD16<Float>(rv.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<Float16>.self)), w)
            ro.storeBytes(of: o, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { out[i] += weight * Float(v[i]); i += 1 }
    }
}
