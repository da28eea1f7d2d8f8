/// One layer's attention block as a step runs it, over the rows of the step:
///
/// 1. per row: RoPE on its query and key, the query rounded to F16 when the cache is F16 and
///    activations are quantised (llama.cpp's CPU attention multiplies F16 Q by F16 K), and its
///    key and value stored in the cache at the row's position;
/// 2. causal attention of every row over its own sequence's cache. Work items are (run of up to
///    16 consecutive rows of one sequence, KV head): the query heads sharing a KV head read it
///    once, and the rows of a prefill chunk share one widening of the cache. Items are dealt out
///    round-robin: with causal attention later rows cost more, and contiguous halves would leave
///    one worker a quarter of it.
///
/// `InferenceSession` runs every layer's attention through it, and `AttentionBenchmark` (which
/// `infersim calibrate` times) runs the very same code over its own cache, so calibration
/// measures what a step does, per-row RoPE and cache writes included.
struct AttentionStep {
    let heads, kvHeads, headDim: Int
    /// Rows of `heads · headDim` queries (rotated in place) and outputs, `queryStride` floats apart.
    let queries, output: UnsafeMutablePointer<Float>
    let queryStride: Int
    /// Rows of `kvHeads · headDim` new keys (rotated in place) and values.
    let keys, values: UnsafeMutablePointer<Float>
    /// `rotaryTable` rows, `headDim` floats per position.
    let rope: UnsafePointer<Float>
    let rowSequences, rowPositions: UnsafePointer<Int>
    /// Room for `rows + 1` run starts.
    let runStarts: UnsafeMutablePointer<Int>
    /// `scratchFloats` per worker.
    let scratch: UnsafeMutablePointer<Float>
    let scratchFloats: Int
    let cache: KVCache
    let roundQueryToHalf: Bool

    /// Runs the block of layer `layer` for rows `0 ..< rows`.
    @inline(__always)
    func run(layer: Int, rows: Int, pool: ThreadPool) {
        let d = queryStride, kvDim = kvHeads * headDim, headDim = headDim
        let q = queries, k = keys, v = values
        pool.forEachRow(rows) { n in
            let table = rope + rowPositions[n] * headDim
            applyRotaryEmbedding(q + n * d, heads: heads, headDim: headDim, table: table)
            applyRotaryEmbedding(k + n * kvDim, heads: kvHeads, headDim: headDim, table: table)
            if roundQueryToHalf {
                for i in 0 ..< heads * headDim { q[n * d + i] = Float(Float16(q[n * d + i])) }
            }
            cache.store(layer: layer, sequence: rowSequences[n], position: rowPositions[n], key: k + n * kvDim, value: v + n * kvDim)
        }
        let group = heads / kvHeads
        var runs = 0
        var n = 0
        while n < rows {
            runStarts[runs] = n
            runs += 1
            var end = n + 1
            while end < rows && end - n < 16 && rowSequences[end] == rowSequences[n]
                && rowPositions[end] == rowPositions[end - 1] + 1 { end += 1 }
            n = end
        }
        runStarts[runs] = rows
        let items = runs * kvHeads, threads = pool.threadCount
        pool.run { worker in
            let scratch = scratch + worker * scratchFloats
            for item in Swift.stride(from: worker, to: items, by: threads) {
                let run = item / kvHeads, g = item % kvHeads
                let first = runStarts[run], count = runStarts[run + 1] - first
                let offset = first * d + g * group * headDim
                cache.attendGroupRows(into: output + offset, queries: q + offset, stride: d, rows: count,
                                      layer: layer, sequence: rowSequences[first], kvHead: g, group: group,
                                      firstPosition: rowPositions[first], scratch: scratch)
            }
        }
    }
}

extension ThreadPool {
    /// Runs `body` for every row in `0 ..< rows`: on the pool in contiguous shares when every
    /// worker gets at least two rows, on the calling thread otherwise (a fork-join costs more than
    /// a few rows of a norm). Each row's work must touch only that row's data.
    @inline(__always)
    func forEachRow(_ rows: Int, _ body: (Int) -> Void) {
        if rows >= 2 * threadCount {
            run { worker in
                for n in share(of: rows, worker: worker) { body(n) }
            }
        } else {
            for n in 0 ..< rows { body(n) }
        }
    }
}
