/// Weight matmuls `out[n][r] = Σ_k W[r][k] · x[n][k]` for the repacked layouts of `WeightMatrix`.
///
/// Each kernel computes one group of 16 rows for one input row with 16 accumulators, one per
/// SIMD lane (a `zmm` register with AVX-512), so no horizontal reduction is needed per block:
///
///     Q4 · Q8:  isum_r = Σ_j lo(q_rj)·x_j + hi(q_rj)·x_(j+16)            (int32, exact)
///               y_r   += f(isum_r) · d_r · d_x  +  m_r · (d_x · Σ x_q)     (the Q4_1 · Q8_1 identity)
///     Q8 · Q8:  y_r   += d_r · d_x · Σ_k q_rk · x_k
///     FP32:     the same with float activations (`d_x = 1`, `Σ x` precomputed)
///
/// Loops are written over raw pointers with the row index innermost so that LLVM's
/// vectorizers map the 16 rows onto lanes; the accumulators live in stack buffers that
/// SROA promotes to registers. The batch loop sits inside the group loop so a group's
/// weights (≤ 15 KB here) are read from memory once per call and reused from L1/L2 for
/// every input row: batched decode and prefill stream the weights once per step.
/// Cost: 2·rows·columns FLOPs per input row; bytes = `WeightMatrix.byteCount` per call.
@inline(never)
public func matmul(into out: UnsafeMutablePointer<Float>, outStride: Int, _ w: WeightMatrix,
                   _ x: ActivationBatch, groups: Range<Int>) {
    precondition(x.columns == w.columns, "matmul \(w.name): input has \(x.columns) columns, weight \(w.columns)")
    switch (w.layout, x.isQuantized) {
    case (.q4, true): q4MatmulQuantized(out, outStride, w, x, groups)
    case (.q4, false): q4MatmulFloat(out, outStride, w, x, groups)
    case (.q8, true): q8MatmulQuantized(out, outStride, w, x, groups)
    case (.q8, false): q8MatmulFloat(out, outStride, w, x, groups)
    case (.f32, _): f32Matmul(out, outStride, w, x, groups)
    }
}

@inline(__always)
private func storeGroup(_ out: UnsafeMutablePointer<Float>, _ acc: UnsafeMutablePointer<Float>, validRows: Int) {
    if validRows == 16 {
        for r in 0 ..< 16 { out[r] = acc[r] }
    } else {
        for r in 0 ..< validRows { out[r] = acc[r] }
    }
}

@inline(__always)
private func loadHalves16(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafeRawPointer) {
    let h = src.assumingMemoryBound(to: Float16.self)
    for r in 0 ..< 16 { dst[r] = Float(h[r]) }
}

private func q4MatmulQuantized(_ out: UnsafeMutablePointer<Float>, _ outStride: Int, _ w: WeightMatrix,
                               _ x: ActivationBatch, _ groups: Range<Int>) {
    let nb = w.blocksPerRow, xStride = x.capacityColumns, bStride = x.blockStride
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: 16) { isumBuffer in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { accBuffer in
        let isum = isumBuffer.baseAddress!, acc = accBuffer.baseAddress!
        for g in groups {
            let groupBase = UnsafeRawPointer(w.storage) + g * nb * 320
            let validRows = min(16, w.rows - g * 16)
            for n in 0 ..< x.rows {
                let xq = UnsafePointer(x.quantized + n * xStride)
                let xd = x.scales + n * bStride, xs = x.blockSums + n * bStride
                for r in 0 ..< 16 { acc[r] = 0 }
                for b in 0 ..< nb {
                    let blk = groupBase + b * 320
                    let q = blk.assumingMemoryBound(to: UInt8.self)
                    let xb = xq + b * 32
                    for r in 0 ..< 16 { isum[r] = 0 }
                    for j in 0 ..< 16 {
                        let xl = xb[j], xh = xb[j + 16]
                        for r in 0 ..< 16 {
                            let v = q[j * 16 + r]
                            isum[r] &+= Int32(v & 0x0F) &* xl &+ Int32(v &>> 4) &* xh
                        }
                    }
                    let d = (blk + 256).assumingMemoryBound(to: Float16.self)
                    let m = (blk + 288).assumingMemoryBound(to: Float16.self)
                    let dx = xd[b], sx = xs[b]
                    for r in 0 ..< 16 {
                        acc[r] += Float(isum[r]) * (Float(d[r]) * dx) + Float(m[r]) * sx
                    }
                }
                storeGroup(out + n * outStride + g * 16, acc, validRows: validRows)
            }
        }
    }}
}

private func q4MatmulFloat(_ out: UnsafeMutablePointer<Float>, _ outStride: Int, _ w: WeightMatrix,
                           _ x: ActivationBatch, _ groups: Range<Int>) {
    let nb = w.blocksPerRow, xStride = x.capacityColumns, bStride = x.blockStride
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { sumBuffer in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { accBuffer in
        let fsum = sumBuffer.baseAddress!, acc = accBuffer.baseAddress!
        for g in groups {
            let groupBase = UnsafeRawPointer(w.storage) + g * nb * 320
            let validRows = min(16, w.rows - g * 16)
            for n in 0 ..< x.rows {
                let xf = UnsafePointer(x.floats + n * xStride)
                let xs = x.blockSums + n * bStride
                for r in 0 ..< 16 { acc[r] = 0 }
                for b in 0 ..< nb {
                    let blk = groupBase + b * 320
                    let q = blk.assumingMemoryBound(to: UInt8.self)
                    let xb = xf + b * 32
                    for r in 0 ..< 16 { fsum[r] = 0 }
                    for j in 0 ..< 16 {
                        let xl = xb[j], xh = xb[j + 16]
                        for r in 0 ..< 16 {
                            let v = q[j * 16 + r]
                            fsum[r] += Float(v & 0x0F) * xl + Float(v &>> 4) * xh
                        }
                    }
                    let d = (blk + 256).assumingMemoryBound(to: Float16.self)
                    let m = (blk + 288).assumingMemoryBound(to: Float16.self)
                    let sx = xs[b]
                    for r in 0 ..< 16 { acc[r] += fsum[r] * Float(d[r]) + Float(m[r]) * sx }
                }
                storeGroup(out + n * outStride + g * 16, acc, validRows: validRows)
            }
        }
    }}
}

private func q8MatmulQuantized(_ out: UnsafeMutablePointer<Float>, _ outStride: Int, _ w: WeightMatrix,
                               _ x: ActivationBatch, _ groups: Range<Int>) {
    let nb = w.blocksPerRow, xStride = x.capacityColumns, bStride = x.blockStride
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: 16) { isumBuffer in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { accBuffer in
        let isum = isumBuffer.baseAddress!, acc = accBuffer.baseAddress!
        for g in groups {
            let groupBase = UnsafeRawPointer(w.storage) + g * nb * 544
            let validRows = min(16, w.rows - g * 16)
            for n in 0 ..< x.rows {
                let xq = UnsafePointer(x.quantized + n * xStride)
                let xd = x.scales + n * bStride
                for r in 0 ..< 16 { acc[r] = 0 }
                for b in 0 ..< nb {
                    let blk = groupBase + b * 544
                    let q = blk.assumingMemoryBound(to: Int8.self)
                    let xb = xq + b * 32
                    for r in 0 ..< 16 { isum[r] = 0 }
                    for k in 0 ..< 32 {
                        let xk = xb[k]
                        for r in 0 ..< 16 { isum[r] &+= Int32(q[k * 16 + r]) &* xk }
                    }
                    let d = (blk + 512).assumingMemoryBound(to: Float16.self)
                    let dx = xd[b]
                    for r in 0 ..< 16 { acc[r] += Float(isum[r]) * (Float(d[r]) * dx) }
                }
                storeGroup(out + n * outStride + g * 16, acc, validRows: validRows)
            }
        }
    }}
}

private func q8MatmulFloat(_ out: UnsafeMutablePointer<Float>, _ outStride: Int, _ w: WeightMatrix,
                           _ x: ActivationBatch, _ groups: Range<Int>) {
    let nb = w.blocksPerRow, xStride = x.capacityColumns
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { sumBuffer in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { accBuffer in
        let fsum = sumBuffer.baseAddress!, acc = accBuffer.baseAddress!
        for g in groups {
            let groupBase = UnsafeRawPointer(w.storage) + g * nb * 544
            let validRows = min(16, w.rows - g * 16)
            for n in 0 ..< x.rows {
                let xf = UnsafePointer(x.floats + n * xStride)
                for r in 0 ..< 16 { acc[r] = 0 }
                for b in 0 ..< nb {
                    let blk = groupBase + b * 544
                    let q = blk.assumingMemoryBound(to: Int8.self)
                    let xb = xf + b * 32
                    for r in 0 ..< 16 { fsum[r] = 0 }
                    for k in 0 ..< 32 {
                        let xk = xb[k]
                        for r in 0 ..< 16 { fsum[r] += Float(q[k * 16 + r]) * xk }
                    }
                    let d = (blk + 512).assumingMemoryBound(to: Float16.self)
                    for r in 0 ..< 16 { acc[r] += fsum[r] * Float(d[r]) }
                }
                storeGroup(out + n * outStride + g * 16, acc, validRows: validRows)
            }
        }
    }}
}

/// Dense FP32 rows: 16-wide SIMD dot products, one row at a time (rows of group `g` are `16g…16g+15`).
private func f32Matmul(_ out: UnsafeMutablePointer<Float>, _ outStride: Int, _ w: WeightMatrix,
                       _ x: ActivationBatch, _ groups: Range<Int>) {
    let cols = w.columns, xStride = x.capacityColumns
    let weights = UnsafePointer(w.storage.assumingMemoryBound(to: Float.self))
    let rowRange = (groups.lowerBound * 16) ..< min(w.rows, groups.upperBound * 16)
    for r in rowRange {
        let wr = weights + r * cols
        for n in 0 ..< x.rows {
            out[n * outStride + r] = dotProduct(wr, UnsafePointer(x.floats + n * xStride), count: cols)
        }
    }
}

/// `Σ a[i]·b[i]` with four 16-lane accumulators; float reduction order differs from the scalar sum.
@inline(__always)
public func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var i = 0
    while i + 32 <= count {
        acc0.addProduct(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self),
                        rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
        acc1.addProduct(ra.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD16<Float>.self),
                        rb.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD16<Float>.self))
        i += 32
    }
    var sum = (acc0 + acc1).sum()
    while i < count { sum += a[i] * b[i]; i += 1 }
    return sum
}
