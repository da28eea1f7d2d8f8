/// The session's attention block, alone: `sequences` sequences of `positions` cached F16 keys and
/// values in each of `layers` layers of a `KVCache`, of which the last `rows` positions of every
/// sequence are the step's rows. Each run goes through `AttentionStep`, the code a step runs:
/// per row RoPE on the query and key, the F16 rounding of the query, the cache write, then the
/// causal attention of every row over its sequence, work shared among the pool's workers as a
/// step shares it. So `infersim calibrate` times exactly the code, layout and compilation a step
/// runs. `rows: 1` is a decode step's attention (one row per sequence); more rows of one
/// sequence, a prefill chunk's.
public final class AttentionBenchmark {
    public let heads, kvHeads, headDim, positions, layers, sequences: Int
    private let pool: ThreadPool
    private let cache: KVCache
    private let queries, keys, values, out, scratch, rope: UnsafeMutablePointer<Float>
    private let rowSequences, rowPositions, runStarts: UnsafeMutablePointer<Int>
    private let scratchFloats: Int

    public init(heads: Int, kvHeads: Int, headDim: Int, positions: Int, layers: Int, sequences: Int = 1, pool: ThreadPool) {
        precondition(heads % kvHeads == 0 && positions >= 1 && layers >= 1 && sequences >= 1 && headDim % 2 == 0)
        self.heads = heads; self.kvHeads = kvHeads; self.headDim = headDim; self.positions = positions
        self.layers = layers; self.sequences = sequences
        self.pool = pool
        let kvDim = kvHeads * headDim, d = heads * headDim
        cache = KVCache(type: .f16, layers: layers, sequences: sequences, positions: positions, kvDim: kvDim, headDim: headDim)
        let key = UnsafeMutablePointer<Float>.allocate(capacity: kvDim)
        let value = UnsafeMutablePointer<Float>.allocate(capacity: kvDim)
        defer { key.deallocate(); value.deallocate() }
        for s in 0 ..< sequences {
            for layer in 0 ..< layers {
                for p in 0 ..< positions {
                    for i in 0 ..< kvDim {
                        let n = ((s * layers + layer) * positions + p) * kvDim + i
                        key[i] = Float((n * 7919) % 251) / 251 - 0.5
                        value[i] = Float((n * 104_729) % 241) / 241 - 0.5
                    }
                    cache.store(layer: layer, sequence: s, position: p, key: key, value: value)
                }
            }
        }
        // Rows: one query, key, value and output row per (sequence, position), as a step's activations.
        let capacityRows = sequences * positions
        queries = .allocate(capacity: capacityRows * d)
        for i in 0 ..< capacityRows * d { queries[i] = Float((i * 31) % 17) / 17 - 0.5 }
        keys = .allocate(capacity: capacityRows * kvDim)
        values = .allocate(capacity: capacityRows * kvDim)
        for i in 0 ..< capacityRows * kvDim {
            keys[i] = Float((i * 13) % 19) / 19 - 0.5
            values[i] = Float((i * 17) % 23) / 23 - 0.5
        }
        out = .allocate(capacity: capacityRows * d)
        let table = rotaryTable(positions: positions, headDim: headDim, base: 10_000)
        rope = .allocate(capacity: table.count)
        rope.initialize(from: table, count: table.count)
        rowSequences = .allocate(capacity: capacityRows)
        rowPositions = .allocate(capacity: capacityRows)
        runStarts = .allocate(capacity: capacityRows + 1)
        runStarts.initialize(repeating: 0, count: capacityRows + 1)
        scratchFloats = attentionScratchFloats(group: heads / kvHeads, headDim: headDim, positions: positions)
        scratch = .allocate(capacity: pool.threadCount * scratchFloats)
    }

    deinit {
        for p in [queries, keys, values, out, scratch, rope] { p.deallocate() }
        rowSequences.deallocate(); rowPositions.deallocate(); runStarts.deallocate()
    }

    /// FLOPs of `run(rows:)`: `4 · headDim · heads · layers` per query-key pair, over every sequence.
    public func flops(rows: Int = 1) -> Double {
        let first = positions - rows
        let pairs = Double(rows) * Double(first) + Double(rows) * Double(rows + 1) / 2
        return 4 * Double(headDim * heads * layers) * pairs * Double(sequences)
    }

    /// The attention block of every layer for the last `rows` positions (1 ... positions) of every
    /// sequence, the rows of a sequence consecutive, as a step orders them.
    public func run(rows: Int = 1) {
        precondition(rows >= 1 && rows <= positions)
        for s in 0 ..< sequences {
            for r in 0 ..< rows {
                rowSequences[s * rows + r] = s
                rowPositions[s * rows + r] = positions - rows + r
            }
        }
        let step = AttentionStep(heads: heads, kvHeads: kvHeads, headDim: headDim, queries: queries, output: out,
                                 queryStride: heads * headDim, keys: keys, values: values, rope: rope,
                                 rowSequences: rowSequences, rowPositions: rowPositions, runStarts: runStarts,
                                 scratch: scratch, scratchFloats: scratchFloats, cache: cache, roundQueryToHalf: true)
        for layer in 0 ..< layers { step.run(layer: layer, rows: sequences * rows, pool: pool) }
    }
}
