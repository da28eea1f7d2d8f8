/// The session's attention, alone: the last `rows` positions of a sequence attending causally
/// over `positions` cached F16 keys and values in each of `layers` layers of a `KVCache`, work
/// shared among the pool's workers as `InferenceSession` shares a step's (runs of up to 16 rows ×
/// KV heads, dealt round-robin), so `infersim calibrate` times exactly the code, layout and
/// compilation a step runs. `rows: 1` is a decode step's attention; more rows, a prefill chunk's.
public final class AttentionBenchmark {
    public let heads, kvHeads, headDim, positions, layers: Int
    private let pool: ThreadPool
    private let cache: KVCache
    private let queries, out, scratch: UnsafeMutablePointer<Float>
    private let scratchFloats: Int

    public init(heads: Int, kvHeads: Int, headDim: Int, positions: Int, layers: Int, pool: ThreadPool) {
        precondition(heads % kvHeads == 0 && positions >= 1 && layers >= 1)
        self.heads = heads; self.kvHeads = kvHeads; self.headDim = headDim; self.positions = positions; self.layers = layers
        self.pool = pool
        let kvDim = kvHeads * headDim
        cache = KVCache(type: .f16, layers: layers, sequences: 1, positions: positions, kvDim: kvDim, headDim: headDim)
        let key = UnsafeMutablePointer<Float>.allocate(capacity: kvDim)
        let value = UnsafeMutablePointer<Float>.allocate(capacity: kvDim)
        defer { key.deallocate(); value.deallocate() }
        for layer in 0 ..< layers {
            for p in 0 ..< positions {
                for i in 0 ..< kvDim {
                    let n = (layer * positions + p) * kvDim + i
                    key[i] = Float((n * 7919) % 251) / 251 - 0.5
                    value[i] = Float((n * 104_729) % 241) / 241 - 0.5
                }
                cache.store(layer: layer, sequence: 0, position: p, key: key, value: value)
            }
        }
        // One query and one output row per position, as a step's activations.
        queries = .allocate(capacity: positions * heads * headDim)
        for i in 0 ..< positions * heads * headDim { queries[i] = Float((i * 31) % 17) / 17 - 0.5 }
        out = .allocate(capacity: positions * heads * headDim)
        scratchFloats = attentionScratchFloats(group: heads / kvHeads, headDim: headDim, positions: positions)
        scratch = .allocate(capacity: pool.threadCount * scratchFloats)
    }

    deinit { queries.deallocate(); out.deallocate(); scratch.deallocate() }

    /// FLOPs of `run(rows:)`: `4 · headDim · heads · layers` per query-key pair.
    public func flops(rows: Int = 1) -> Double {
        let first = positions - rows
        let pairs = Double(rows) * Double(first) + Double(rows) * Double(rows + 1) / 2
        return 4 * Double(headDim * heads * layers) * pairs
    }

    /// The attention of the last `rows` positions (1 ... positions) over every layer, each row
    /// reading its own query row and writing its own output row, `heads · headDim` apart.
    public func run(rows: Int = 1) {
        precondition(rows >= 1 && rows <= positions)
        let group = heads / kvHeads, threads = pool.threadCount, first = positions - rows
        let runs = (rows + 15) / 16, items = runs * kvHeads
        for layer in 0 ..< layers {
            pool.run { worker in
                for item in Swift.stride(from: worker, to: items, by: threads) {
                    let run = item / kvHeads, g = item % kvHeads
                    let offset = (run * 16) * heads * headDim + g * group * headDim
                    cache.attendGroupRows(into: out + offset, queries: queries + offset, stride: heads * headDim, rows: min(16, rows - run * 16),
                                          layer: layer, sequence: 0, kvHead: g, group: group, firstPosition: first + run * 16,
                                          scratch: scratch + worker * scratchFloats)
                }
            }
        }
    }
}
