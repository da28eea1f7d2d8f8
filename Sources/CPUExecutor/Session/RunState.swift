/// Every buffer a forward step touches, allocated once per session (llama2.c's `RunState`).
///
/// Shapes (B = `maxBatchTokens`, d = embedding, f = FFN width, kv = K/V width, V = vocabulary):
/// `x`, `normed`, `q`, `attention`, `projected` (B, d); `k`, `v` (B, kv); `gate`, `up` (B, f);
/// `logits` (maxSequences, V); `scores` (threads, (group + 2 · headDim) · context + headDim), the per-worker scratch of `attendGroup`; `rope` (context, headDim);
/// `logitSourceRows` (maxSequences): which token row each logits row comes from.
final class RunState: @unchecked Sendable {
    let x, normed, q, k, v, attention, projected, gate, up, logits, scores, rope: UnsafeMutablePointer<Float>
    let rowTokens: UnsafeMutablePointer<Int32>
    let rowSequences: UnsafeMutablePointer<Int>
    let rowPositions: UnsafeMutablePointer<Int>
    /// First row of each attention work run (runs of consecutive rows of one sequence), plus the end.
    let runStarts: UnsafeMutablePointer<Int>
    let logitSourceRows: UnsafeMutablePointer<Int>
    let inputD: ActivationBatch
    let inputF: ActivationBatch
    let cache: KVCache
    private var owned: [UnsafeMutablePointer<Float>] = []

    /// Floats of one worker's `attendGroup` scratch.
    static func attentionScratch(_ c: LlamaConfig, contextLength: Int) -> Int {
        attentionScratchFloats(group: c.headCount / c.kvHeadCount, headDim: c.headDim, positions: contextLength)
    }

    init(config c: LlamaConfig, options: InferenceSession.Options, contextLength: Int) {
        let b = options.maxBatchTokens, d = c.embeddingLength, f = c.feedForwardLength, kv = c.kvDim
        var owned: [UnsafeMutablePointer<Float>] = []
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            owned.append(p)
            return p
        }
        x = buffer(b * d); normed = buffer(b * d); q = buffer(b * d); attention = buffer(b * d); projected = buffer(b * d)
        k = buffer(b * kv); v = buffer(b * kv); gate = buffer(b * f); up = buffer(b * f)
        logits = buffer(max(options.maxSequences, 1) * c.vocabularySize)
        scores = buffer(options.threads * Self.attentionScratch(c, contextLength: contextLength))
        let table = rotaryTable(positions: contextLength, headDim: c.headDim, base: c.ropeFrequencyBase)
        rope = buffer(table.count)
        rope.update(from: table, count: table.count)
        self.owned = owned
        rowTokens = .allocate(capacity: b); rowTokens.initialize(repeating: 0, count: b)
        rowSequences = .allocate(capacity: b); rowSequences.initialize(repeating: 0, count: b)
        rowPositions = .allocate(capacity: b); rowPositions.initialize(repeating: 0, count: b)
        runStarts = .allocate(capacity: b + 1); runStarts.initialize(repeating: 0, count: b + 1)
        let logitRows = max(options.maxSequences, 1)
        logitSourceRows = .allocate(capacity: logitRows); logitSourceRows.initialize(repeating: 0, count: logitRows)
        inputD = ActivationBatch(capacityRows: b, capacityColumns: d)
        inputF = ActivationBatch(capacityRows: b, capacityColumns: f)
        cache = KVCache(type: options.kvCache, layers: c.layerCount, sequences: options.maxSequences,
                        positions: contextLength, kvDim: kv, headDim: c.headDim)
    }

    deinit {
        for p in owned { p.deallocate() }
        rowTokens.deallocate(); rowSequences.deallocate(); rowPositions.deallocate(); runStarts.deallocate(); logitSourceRows.deallocate()
    }
}
