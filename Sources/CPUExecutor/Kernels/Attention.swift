/// Causal scaled dot-product attention of the `group` query heads that share one KV head
/// (grouped-query attention) over one sequence's cached keys and values, for each head:
///
///     score_t = (q · k_t) / sqrt(headDim)     for t in 0...lastPosition
///     out     = Σ_t softmax(score)_t · v_t
///
/// Each cached key and value is widened to F32 once for the whole group. Keys are stored in tiles
/// of sixteen positions (`keyTiles[((t / 16) · headDim + d) · 16 + t % 16]`), so sixteen
/// positions' scores are computed at once from one contiguous block, one position per lane, with the arithmetic of
/// the row-by-row kernel this replaced (one 16-lane accumulator filled chunk after chunk, lanes
/// summed in order, then the tail dimensions): for each lane `l` a multiply-add chain over the
/// chunks, then the lanes summed in order, so every score is bit-identical to it (greedy decoding on
/// the reference prompts depends on that where the top-2 margin is 0.01) at a fraction of its cost. Values are rows `values[t · headDim + d]`;
/// each head's output accumulates `p_t · v_t` in position order.
///
/// Entries of the last tile past `lastPosition` must be finite (their lanes are computed and dropped).
/// `queries`/`out`: `group` heads of `headDim` floats, contiguous. `scratch` needs
/// `attentionScratchFloats(group:headDim:positions:)` floats. Cost: `4 · headDim · (lastPosition + 1) · group`
/// FLOPs; bytes = the K and V entries read once.
/// Source: Vaswani et al., *Attention Is All You Need* (2017); GQA: Ainslie et al. (2023).
@inline(__always)
public func attendGroup<Element: AttentionCacheElement>(
    into out: UnsafeMutablePointer<Float>, queries: UnsafePointer<Float>,
    keyTiles: UnsafePointer<Element>, values: UnsafePointer<Element>,
    lastPosition: Int, headDim: Int, group: Int, scratch: UnsafeMutablePointer<Float>
) {
    attendGroupRows(into: out, outStride: 0, queries: queries, queryStride: 0, rows: 1, firstLastPosition: lastPosition,
                    keyTiles: keyTiles, values: values, headDim: headDim, group: group, scratch: scratch)
}

/// `attendGroup` for `rows` consecutive query rows of one sequence (a prefill chunk): row `r`
/// attends over positions `0...firstLastPosition + r`. The cached keys and values are widened
/// once for all the rows, not once per row; each row's arithmetic is `attendGroup`'s.
/// Row `r`'s queries and output start `r · queryStride` and `r · outStride` floats in.
@inline(__always)
public func attendGroupRows<Element: AttentionCacheElement>(
    into out: UnsafeMutablePointer<Float>, outStride: Int, queries: UnsafePointer<Float>, queryStride: Int,
    rows: Int, firstLastPosition: Int,
    keyTiles: UnsafePointer<Element>, values: UnsafePointer<Element>,
    headDim: Int, group: Int, scratch: UnsafeMutablePointer<Float>
) {
    let stride = firstLastPosition + rows           // positions the last row reads
    let tiles = (stride + 15) / 16
    let wideKeys = scratch + group * stride         // tiles of 16 positions × headDim, as cached
    let wideValues = wideKeys + tiles * 16 * headDim  // (stride, headDim): values widened, position-major
    Element.widen(into: wideKeys, keyTiles, count: tiles * 16 * headDim)
    Element.widen(into: wideValues, values, count: stride * headDim)
    for r in 0 ..< rows {
        attendWidened(into: out + r * outStride, queries: queries + r * queryStride, count: firstLastPosition + r + 1,
                      wideKeys: wideKeys, wideValues: wideValues, headDim: headDim, group: group, scores: scratch)
    }
}

/// One row of `attendGroup` over keys and values already widened to F32. Keys are in tiles of
/// sixteen positions: the tile of positions `16j ..< 16j + 16` holds dimension `d` at
/// `wideKeys[(j · headDim + d) · 16 ...]` (finite past the last position), so scoring one tile
/// reads one contiguous `64 · headDim`-byte block. Values are position-major.
/// `scores` needs `group · count` floats.
@inline(__always)
func attendWidened(
    into out: UnsafeMutablePointer<Float>, queries: UnsafePointer<Float>, count: Int,
    wideKeys: UnsafePointer<Float>, wideValues: UnsafePointer<Float>,
    headDim: Int, group: Int, scores scratch: UnsafeMutablePointer<Float>
) {
    let scale = 1 / Float(headDim).squareRoot()
    let chunks = headDim / 16
    let rk = UnsafeRawPointer(wideKeys)
    let tileBytes = headDim * 64
    for h in 0 ..< group {
        let q = queries + h * headDim
        let scores = scratch + h * count
        var t = 0
        if headDim == 64 {
            // Two tiles per pass: their sums of sixteen chains are independent, so one's additions
            // fill the other's latency.
            while t + 16 < count {
                let tile = (t / 16) * tileBytes
                let (a, b) = scoreTilePair64(q, rk, tile, tile + tileBytes)
                UnsafeMutableRawPointer(scores).storeBytes(of: a * scale, toByteOffset: t * 4, as: SIMD16<Float>.self)
                let bScaled = b * scale
                if t + 32 <= count {
                    UnsafeMutableRawPointer(scores).storeBytes(of: bScaled, toByteOffset: (t + 16) * 4, as: SIMD16<Float>.self)
                } else {
                    for i in 0 ..< count - t - 16 { scores[t + 16 + i] = bScaled[i] }
                }
                t += 32
            }
        }
        while t < count {
            let tile = (t / 16) * tileBytes
            var total = SIMD16<Float>()
            for l in 0 ..< 16 where chunks > 0 {
                var chain = SIMD16<Float>()
                for c in 0 ..< chunks {
                    let d = c * 16 + l
                    chain.addProduct(SIMD16(repeating: q[d]), rk.loadUnaligned(fromByteOffset: tile + d * 64, as: SIMD16<Float>.self))
                }
                total = l == 0 ? chain : total + chain
            }
            for d in chunks * 16 ..< headDim {
                total = total + SIMD16(repeating: q[d]) * rk.loadUnaligned(fromByteOffset: tile + d * 64, as: SIMD16<Float>.self)
            }
            total *= scale
            if t + 16 <= count {
                UnsafeMutableRawPointer(scores).storeBytes(of: total, toByteOffset: t * 4, as: SIMD16<Float>.self)
            } else {
                for i in 0 ..< count - t { scores[t + i] = total[i] }
            }
            t += 16
        }
        softmaxInPlace(scores, count: count)
        let o = out + h * headDim
        if headDim == 64 {
            // Four register accumulators instead of a load-add-store chain through memory.
            let rv = UnsafeRawPointer(wideValues)
            var o0 = SIMD16<Float>(), o1 = SIMD16<Float>(), o2 = SIMD16<Float>(), o3 = SIMD16<Float>()
            for t in 0 ..< count {
                let row = 256 * t
                let w = SIMD16<Float>(repeating: scores[t])
                o0.addProduct(rv.loadUnaligned(fromByteOffset: row, as: SIMD16<Float>.self), w)
                o1.addProduct(rv.loadUnaligned(fromByteOffset: row + 64, as: SIMD16<Float>.self), w)
                o2.addProduct(rv.loadUnaligned(fromByteOffset: row + 128, as: SIMD16<Float>.self), w)
                o3.addProduct(rv.loadUnaligned(fromByteOffset: row + 192, as: SIMD16<Float>.self), w)
            }
            let ro = UnsafeMutableRawPointer(o)
            ro.storeBytes(of: o0, as: SIMD16<Float>.self)
            ro.storeBytes(of: o1, toByteOffset: 64, as: SIMD16<Float>.self)
            ro.storeBytes(of: o2, toByteOffset: 128, as: SIMD16<Float>.self)
            ro.storeBytes(of: o3, toByteOffset: 192, as: SIMD16<Float>.self)
        } else {
            for i in 0 ..< headDim { o[i] = 0 }
            for t in 0 ..< count { Float.accumulate(into: o, wideValues + t * headDim, weight: scores[t], count: headDim) }
        }
    }
}

/// The scores of two 16-position tiles for one 64-dimension query head, with `attendWidened`'s
/// arithmetic: per lane, for each `l` a multiply-add chain over the four chunks, then the sixteen
/// chains summed in order.
@inline(__always)
private func scoreTilePair64(_ q: UnsafePointer<Float>, _ rk: UnsafeRawPointer, _ first: Int, _ second: Int)
    -> (SIMD16<Float>, SIMD16<Float>) {
    var a = SIMD16<Float>(), b = SIMD16<Float>()
    for l in 0 ..< 16 {
        var ca = SIMD16<Float>(), cb = SIMD16<Float>()
        for c in 0 ..< 4 {
            let d = c * 16 + l
            let qd = SIMD16<Float>(repeating: q[d])
            ca.addProduct(qd, rk.loadUnaligned(fromByteOffset: first + d * 64, as: SIMD16<Float>.self))
            cb.addProduct(qd, rk.loadUnaligned(fromByteOffset: second + d * 64, as: SIMD16<Float>.self))
        }
        if l == 0 { a = ca; b = cb } else { a = a + ca; b = b + cb }
    }
    return (a, b)
}

/// Floats of `attendGroup`'s scratch for `positions` cached positions.
public func attentionScratchFloats(group: Int, headDim: Int, positions: Int) -> Int {
    (group + 2 * headDim) * positions + 16 * headDim
}

/// A KV-cache element type: F32 (exact) or F16 (llama.cpp's default, half the bytes).
public protocol AttentionCacheElement {
    static func store(_ dst: UnsafeMutablePointer<Self>, _ src: UnsafePointer<Float>, count: Int)
    /// `dst[i] = Float(src[i])`.
    static func widen(into dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Self>, count: Int)
}

extension Float: AttentionCacheElement {
    @inline(__always) public static func widen(into dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        dst.update(from: src, count: count)
    }
    @inline(__always) public static func store(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        dst.update(from: src, count: count)
    }
    /// `out[i] += weight · v[i]`: one fused multiply-add per 16-lane chunk, then the tail elements.
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
        // A plain loop: LLVM vectorises it to `vcvtph2ps`, while `SIMD16<Float>(SIMD16<Float16>)` is
        // a generic initialiser the inliner sometimes leaves as an element-by-element call.
        for i in 0 ..< count { dst[i] = Float(src[i]) }
    }
    @inline(__always) public static func store(_ dst: UnsafeMutablePointer<Float16>, _ src: UnsafePointer<Float>, count: Int) {
        for i in 0 ..< count { dst[i] = Float16(src[i]) }
    }
}
