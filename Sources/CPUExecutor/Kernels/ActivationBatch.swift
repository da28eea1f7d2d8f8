/// Input rows of a weight matmul, prepared once per matmul and shared by every output row.
///
/// For the integer path each row of `x` (length `columns`, a multiple of 32) is rounded to
/// Q8 blocks of 32 as llama.cpp's `quantize_row_q8_1` does:
/// `d = max|x| / 127` (stored rounded to f16), `q = round(x / d)`, `s = d · Σq`.
/// The int8 values are kept widened to `Int32` so that the kernels can broadcast one
/// value per lane with a single instruction. For the FP32 path the float rows are used
/// directly, with the per-block sums `Σx` precomputed for the Q4_1 minimum term.
///
/// Shapes: `quantized` (rows, columns), `scales` and `scaledSums` and `blockSums` (rows, columns / 32).
/// Buffers are allocated once (by `RunState`) for `capacityRows × capacityColumns`.
public final class ActivationBatch: @unchecked Sendable {
    public let capacityRows: Int
    public let capacityColumns: Int
    /// Rows currently held.
    public private(set) var rows = 0
    /// Elements per row currently held.
    public private(set) var columns = 0
    /// Whether `prepare` rounded the rows to Q8 (integer kernels) or kept floats (FP32 kernels).
    public private(set) var isQuantized = true
    /// Float rows, row stride `capacityColumns`; the matmul input for the FP32 path and for dense weights.
    public let floats: UnsafeMutablePointer<Float>
    /// Rounded values `q`, row stride `capacityColumns`.
    public let quantized: UnsafeMutablePointer<Int32>
    /// `d` per block, row stride `capacityColumns / 32`.
    public let scales: UnsafeMutablePointer<Float>
    /// `d · Σq` per block (integer path) or `Σx` per block (FP32 path), row stride `capacityColumns / 32`.
    public let blockSums: UnsafeMutablePointer<Float>

    public init(capacityRows: Int, capacityColumns: Int) {
        precondition(capacityRows > 0 && capacityColumns > 0)
        self.capacityRows = capacityRows
        self.capacityColumns = (capacityColumns + 31) / 32 * 32
        let n = capacityRows * self.capacityColumns
        floats = .allocate(capacity: n)
        quantized = .allocate(capacity: n)
        scales = .allocate(capacity: n / 32)
        blockSums = .allocate(capacity: n / 32)
        floats.initialize(repeating: 0, count: n)
        quantized.initialize(repeating: 0, count: n)
        scales.initialize(repeating: 0, count: n / 32)
        blockSums.initialize(repeating: 0, count: n / 32)
    }

    deinit {
        floats.deallocate(); quantized.deallocate(); scales.deallocate(); blockSums.deallocate()
    }

    @inline(__always) public var blockStride: Int { capacityColumns / 32 }

    /// Copies `rows` rows of `columns` floats from `source` (row stride `sourceStride`) and
    /// prepares them for the integer kernels (`quantize == true`) or the FP32 kernels. With a
    /// `pool`, the rows are shared among its workers (rows are independent; results are identical).
    public func prepare(from source: UnsafePointer<Float>, sourceStride: Int, rows: Int, columns: Int, quantize: Bool,
                        pool: ThreadPool? = nil) {
        precondition(rows <= capacityRows && columns <= capacityColumns)
        self.rows = rows
        self.columns = columns
        self.isQuantized = quantize
        if let pool, pool.threadCount > 1, rows >= 2 * pool.threadCount {
            pool.run { worker in
                self.prepareRows(pool.share(of: rows, worker: worker), from: source, sourceStride: sourceStride,
                                 columns: columns, quantize: quantize)
            }
        } else {
            prepareRows(0 ..< rows, from: source, sourceStride: sourceStride, columns: columns, quantize: quantize)
        }
    }

    private func prepareRows(_ range: Range<Int>, from source: UnsafePointer<Float>, sourceStride: Int, columns: Int, quantize: Bool) {
        for r in range {
            let src = source + r * sourceStride
            let dst = floats + r * capacityColumns
            dst.update(from: src, count: columns)
            if columns % 32 != 0 { continue }
            if quantize {
                quantizeRowQ8(quantized: quantized + r * capacityColumns, scales: scales + r * blockStride,
                              scaledSums: blockSums + r * blockStride, src, count: columns)
            } else {
                for b in 0 ..< columns / 32 {
                    var s: Float = 0
                    for i in 0 ..< 32 { s += src[b * 32 + i] }
                    blockSums[r * blockStride + b] = s
                }
            }
        }
    }
}

/// Rounds `count` floats (a multiple of 32) to Q8 blocks: `d = f16(max|x| / 127)`,
/// `q = round(x / d)` in −127…127, `scaledSums[b] = d · Σq`.
/// Mirrors ggml's `quantize_row_q8_1_ref` (ggml-quants.c), which also rounds `d` to f16.
public func quantizeRowQ8(quantized: UnsafeMutablePointer<Int32>, scales: UnsafeMutablePointer<Float>,
                          scaledSums: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    for b in 0 ..< count / 32 {
        let xb = x + b * 32
        var amax: Float = 0
        var probe: Float = 0  // x · 0 is NaN exactly when x is NaN or infinite
        for i in 0 ..< 32 {
            amax = max(amax, abs(xb[i]))
            probe += xb[i] * 0
        }
        // A non-finite activation (weights holding NaN or inf) poisons the block's scale, so the
        // step's logits come out NaN and the session reports it; it must not trap here.
        guard amax.isFinite, !probe.isNaN else {
            for i in 0 ..< 32 { quantized[b * 32 + i] = 0 }
            scales[b] = .nan
            scaledSums[b] = .nan
            continue
        }
        let d = amax / 127
        let inverse: Float = d == 0 || !(1 / d).isFinite ? 0 : 1 / d
        var sum: Int32 = 0
        for i in 0 ..< 32 {
            let q = Int32((xb[i] * inverse).rounded(.toNearestOrAwayFromZero))
            quantized[b * 32 + i] = q
            sum &+= q
        }
        let dHalf = Float(Float16(d))
        scales[b] = dHalf
        scaledSums[b] = dHalf * Float(sum)
    }
}
