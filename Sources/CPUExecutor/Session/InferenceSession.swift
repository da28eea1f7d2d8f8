import GGUF

/// Runs a `LlamaModel`: a KV cache for up to `maxSequences` sequences × `contextLength`
/// positions, preallocated activation buffers ("run state"), and a thread pool.
///
/// - `forward(tokens:positions:sequence:)` runs a prompt chunk of one sequence (chunked prefill:
///   chunks of at most `maxBatchTokens` rows, every weight matrix streamed once per chunk) and
///   leaves the logits of the last token in `logits(row: 0)`.
/// - `decodeBatch(tokens:sequences:)` runs one new token for each of several sequences in one
///   step (weights read once for the whole batch) and leaves logits row `i` for `sequences[i]`.
/// - `forward(_ entries:)` runs a mixed step: decodes of some sequences and prompt chunks of
///   others in one pass, as a serving scheduler forms it, and leaves logits row `i` for the
///   last token of `entries[i]`.
///
/// A step allocates nothing: all buffers are made in `init`.
/// Not thread-safe: one caller drives a session.
public final class InferenceSession {
    /// How weight-matmul inputs are represented.
    public enum ActivationPrecision: String, Sendable, CaseIterable {
        /// Inputs rounded to Q8 blocks of 32 with integer dot products (llama.cpp's CPU path).
        case quantized8
        /// Float inputs, float accumulation (for accuracy checks against an FP32 reference).
        case float32
    }
    /// KV-cache element type.
    public enum KVCacheType: String, Sendable, CaseIterable { case f16, f32 }

    public struct Options: Sendable {
        public var maxSequences: Int
        public var contextLength: Int?
        public var maxBatchTokens: Int
        public var threads: Int
        public var precision: ActivationPrecision
        public var kvCache: KVCacheType

        /// Defaults: 1 sequence, the model's context (capped at 4096), chunks of 512, 1 thread,
        /// Q8 activations with an F16 cache (llama.cpp's defaults).
        public init(maxSequences: Int = 1, contextLength: Int? = nil, maxBatchTokens: Int = 512, threads: Int = 1,
                    precision: ActivationPrecision = .quantized8, kvCache: KVCacheType = .f16) {
            self.maxSequences = maxSequences
            self.contextLength = contextLength
            self.maxBatchTokens = maxBatchTokens
            self.threads = threads
            self.precision = precision
            self.kvCache = kvCache
        }

        /// FP32 activations and an F32 cache.
        public static func float32(threads: Int = 1, contextLength: Int? = nil) -> Options {
            Options(contextLength: contextLength, threads: threads, precision: .float32, kvCache: .f32)
        }
    }

    public let model: LlamaModel
    public let options: Options
    public let contextLength: Int
    /// Positions filled so far per sequence.
    public private(set) var sequenceLengths: [Int]
    /// Time per operator class, when a clock was given.
    public private(set) var timings = OperatorTimings()
    private let clock: (any ExecutorClock)?
    private let pool: ThreadPool
    private let state: RunState
    /// Every layer's attention block, over `state`'s buffers and cache.
    private let attention: AttentionStep

    /// - Parameters:
    ///   - clock: when given, every operator class is timed into `timings`.
    public init(model: LlamaModel, options: Options = Options(), clock: (any ExecutorClock)? = nil) {
        precondition(options.maxSequences >= 1 && options.maxBatchTokens >= 1 && options.threads >= 1)
        self.model = model
        self.options = options
        let context = options.contextLength ?? min(model.config.contextLength, 4096)
        precondition(context >= 1)
        contextLength = context
        sequenceLengths = Array(repeating: 0, count: options.maxSequences)
        self.clock = clock
        pool = ThreadPool(threadCount: options.threads)
        let state = RunState(config: model.config, options: options, contextLength: context)
        self.state = state
        let c = model.config
        attention = AttentionStep(heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
                                  queries: state.q, output: state.attention, queryStride: c.embeddingLength, keys: state.k, values: state.v,
                                  rope: state.rope, rowSequences: state.rowSequences, rowPositions: state.rowPositions,
                                  runStarts: state.runStarts, scratch: state.scores,
                                  scratchFloats: RunState.attentionScratch(c, contextLength: context), cache: state.cache,
                                  roundQueryToHalf: options.precision == .quantized8 && options.kvCache == .f16)
    }

    /// Forgets sequence `s` (its cache positions are reused from 0).
    public func reset(sequence s: Int) { sequenceLengths[s] = 0 }

    /// Forgets the positions of sequence `s` from `length` on; positions `0 ..< length` stay cached
    /// (llama.cpp's `llama_kv_cache_seq_rm`). A benchmark uses it to rerun the same steps over the
    /// same context without prefilling again.
    /// - Throws: `ExecutorError.badSequence`, or `.badPositions` when `length` exceeds what is cached.
    public func truncate(sequence s: Int, to length: Int) throws {
        guard s >= 0 && s < options.maxSequences else { throw ExecutorError.badSequence(s, count: options.maxSequences) }
        guard length >= 0 && length <= sequenceLengths[s] else {
            throw ExecutorError.badPositions(sequence: s, expectedStart: sequenceLengths[s], found: length)
        }
        sequenceLengths[s] = length
    }

    public func resetTimings() { timings = OperatorTimings() }

    /// Logits row `row` of the last step (`vocabularySize` floats), valid until the next step.
    public func logits(row: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: state.logits + row * model.config.vocabularySize, count: model.config.vocabularySize)
    }

    /// Runs `tokens` of sequence `sequence` at `positions` (which must continue the sequence:
    /// `positions.lowerBound == sequenceLengths[sequence]`). Longer inputs are processed in chunks
    /// of `maxBatchTokens`. Afterwards `logits(row: 0)` holds the last token's logits.
    /// - Throws: `ExecutorError.emptyInput`, `.badSequence`, `.badPositions`, `.contextOverflow`, `.badToken`.
    public func forward(tokens: [Int32], positions: Range<Int>, sequence: Int) throws {
        guard !tokens.isEmpty else { throw ExecutorError.emptyInput }
        guard sequence >= 0 && sequence < options.maxSequences else { throw ExecutorError.badSequence(sequence, count: options.maxSequences) }
        guard positions.lowerBound == sequenceLengths[sequence], positions.count == tokens.count else {
            throw ExecutorError.badPositions(sequence: sequence, expectedStart: sequenceLengths[sequence], found: positions.lowerBound)
        }
        guard positions.upperBound <= contextLength else {
            throw ExecutorError.contextOverflow(sequence: sequence, needed: positions.upperBound, capacity: contextLength)
        }
        try validate(tokens)
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + options.maxBatchTokens)
            for i in start ..< end {
                state.rowTokens[i - start] = tokens[i]
                state.rowSequences[i - start] = sequence
                state.rowPositions[i - start] = positions.lowerBound + i
            }
            state.logitSourceRows[0] = end - start - 1
            step(rows: end - start, logitRows: 1)
            sequenceLengths[sequence] = positions.lowerBound + end
            try checkFinite(rows: 1)
            start = end
        }
    }

    /// Convenience: appends `tokens` to `sequence` and returns the last token's logits (a copy).
    public func forward(tokens: [Int32], sequence: Int = 0) throws -> [Float] {
        let start = sequenceLengths[sequence]
        try forward(tokens: tokens, positions: start ..< start + tokens.count, sequence: sequence)
        return Array(logits(row: 0))
    }

    /// One decode step: `tokens[i]` is appended to sequence `sequences[i]` (distinct sequences).
    /// Afterwards `logits(row: i)` holds the logits for `sequences[i]`.
    /// - Throws: `ExecutorError.emptyInput`, `.batchTooLarge`, `.badSequence`, `.contextOverflow`, `.badToken`.
    public func decodeBatch(tokens: [Int32], sequences: [Int]) throws {
        guard !tokens.isEmpty, tokens.count == sequences.count else { throw ExecutorError.emptyInput }
        guard tokens.count <= min(options.maxSequences, options.maxBatchTokens) else {
            throw ExecutorError.batchTooLarge(requested: tokens.count, capacity: min(options.maxSequences, options.maxBatchTokens))
        }
        try validate(tokens)
        for (i, s) in sequences.enumerated() {
            guard s >= 0 && s < options.maxSequences else { throw ExecutorError.badSequence(s, count: options.maxSequences) }
            guard sequenceLengths[s] < contextLength else {
                throw ExecutorError.contextOverflow(sequence: s, needed: sequenceLengths[s] + 1, capacity: contextLength)
            }
            state.rowTokens[i] = tokens[i]
            state.rowSequences[i] = s
            state.rowPositions[i] = sequenceLengths[s]
            state.logitSourceRows[i] = i
        }
        step(rows: tokens.count, logitRows: tokens.count)
        for s in sequences { sequenceLengths[s] += 1 }
        try checkFinite(rows: tokens.count)
    }

    /// Throws when a logits row holds NaN or infinity (a model with non-finite weights); the
    /// check reads each row once, a small fraction of the step that produced it.
    func checkFinite(rows: Int) throws {
        let n = model.config.vocabularySize
        for r in 0 ..< rows {
            let row = state.logits + r * n
            var bad = false
            for i in 0 ..< n where !row[i].isFinite { bad = true; break }
            if bad { throw ExecutorError.nonFiniteLogits(row: r) }
        }
    }

    /// One entry of a mixed step: `tokens` appended to `sequence` from `startPosition`, which must
    /// continue the sequence (`sequenceLengths[sequence]`). One token is a decode; several are a
    /// prompt chunk.
    public struct BatchEntry: Hashable, Sendable {
        public var sequence: Int
        public var tokens: [Int32]
        public var startPosition: Int
        public init(sequence: Int, tokens: [Int32], startPosition: Int) {
            self.sequence = sequence
            self.tokens = tokens
            self.startPosition = startPosition
        }
    }

    /// One fused forward pass over every entry's tokens: the rows of all entries go through each
    /// weight matrix together (weights read once), and each row attends over its own sequence's
    /// cache. This is the mixed step a continuous-batching scheduler forms (decodes of some
    /// sequences, prompt chunks of others) and the one `StepWorkload` prices. Unlike
    /// `forward(tokens:positions:sequence:)` it never splits the input: all rows must fit
    /// `maxBatchTokens`. Afterwards `logits(row: i)` holds the logits of `entries[i]`'s last token.
    /// Nothing changes when it throws.
    /// - Throws: `ExecutorError.emptyInput`, `.badSequence`, `.duplicateSequence`, `.badPositions`,
    ///   `.contextOverflow`, `.batchTooLarge` (total rows over `maxBatchTokens`), `.badToken`.
    public func forward(_ entries: [BatchEntry]) throws {
        guard !entries.isEmpty else { throw ExecutorError.emptyInput }
        var rows = 0
        for (i, e) in entries.enumerated() {
            let s = e.sequence
            guard !e.tokens.isEmpty else { throw ExecutorError.emptyInput }
            guard s >= 0 && s < options.maxSequences else { throw ExecutorError.badSequence(s, count: options.maxSequences) }
            // Quadratic, but entries are at most `maxSequences` and a pass costs milliseconds.
            for j in 0 ..< i where entries[j].sequence == s { throw ExecutorError.duplicateSequence(s) }
            guard e.startPosition == sequenceLengths[s] else {
                throw ExecutorError.badPositions(sequence: s, expectedStart: sequenceLengths[s], found: e.startPosition)
            }
            guard e.startPosition + e.tokens.count <= contextLength else {
                throw ExecutorError.contextOverflow(sequence: s, needed: e.startPosition + e.tokens.count, capacity: contextLength)
            }
            try validate(e.tokens)
            rows += e.tokens.count
        }
        guard rows <= options.maxBatchTokens else {
            throw ExecutorError.batchTooLarge(requested: rows, capacity: options.maxBatchTokens)
        }
        var row = 0
        for (i, e) in entries.enumerated() {
            for (j, t) in e.tokens.enumerated() {
                state.rowTokens[row] = t
                state.rowSequences[row] = e.sequence
                state.rowPositions[row] = e.startPosition + j
                row += 1
            }
            state.logitSourceRows[i] = row - 1
        }
        step(rows: rows, logitRows: entries.count)
        for e in entries { sequenceLengths[e.sequence] += e.tokens.count }
        try checkFinite(rows: entries.count)
    }

    private func validate(_ tokens: [Int32]) throws {
        let vocabulary = model.config.vocabularySize
        for t in tokens where t < 0 || Int(t) >= vocabulary {
            throw ExecutorError.badToken(id: t, vocabularySize: vocabulary)
        }
    }

    // MARK: - The forward pass

    @inline(__always)
    private func timed(_ op: OperatorClass, _ body: () -> Void) {
        guard let clock else { body(); return }
        let start = clock.nowNanoseconds()
        body()
        timings.nanoseconds[op.rawValue] &+= clock.nowNanoseconds() &- start
    }

    /// Runs `rows` token rows (described by `state.rowTokens/Sequences/Positions`) through every
    /// layer and computes `logitRows` logits rows, row `i` from token row `state.logitSourceRows[i]`.
    private func step(rows: Int, logitRows: Int) {
        let c = model.config, s = state
        let d = c.embeddingLength, kvDim = c.kvDim, f = c.feedForwardLength
        let quantize = options.precision == .quantized8
        timings.steps += 1
        timings.tokens += rows

        timed(.normsAndElementwise) {
            for n in 0 ..< rows { model.embed(s.rowTokens[n], into: s.x + n * d) }
        }
        for (layerIndex, layer) in model.layers.enumerated() {
            // Attention block.
            timed(.normsAndElementwise) {
                layer.attentionNorm.withUnsafeBufferPointer { w in
                    pool.forEachRow(rows) { n in
                        rmsNorm(into: s.normed + n * d, s.x + n * d, weight: w.baseAddress!, count: d, epsilon: c.rmsEpsilon)
                    }
                }
            }
            timed(.qkvProjection) {
                s.inputD.prepare(from: s.normed, sourceStride: d, rows: rows, columns: d, quantize: quantize, pool: pool)
                let qGroups = layer.query.groupCount, kGroups = layer.key.groupCount
                let total = qGroups + 2 * kGroups
                pool.run { worker in
                    let share = pool.share(of: total, worker: worker)
                    let q = share.clamped(to: 0 ..< qGroups)
                    if !q.isEmpty { matmul(into: s.q, outStride: d, layer.query, s.inputD, groups: q) }
                    let k = share.clamped(to: qGroups ..< qGroups + kGroups)
                    if !k.isEmpty { matmul(into: s.k, outStride: kvDim, layer.key, s.inputD, groups: (k.lowerBound - qGroups) ..< (k.upperBound - qGroups)) }
                    let v = share.clamped(to: qGroups + kGroups ..< total)
                    if !v.isEmpty {
                        matmul(into: s.v, outStride: kvDim, layer.value, s.inputD,
                               groups: (v.lowerBound - qGroups - kGroups) ..< (v.upperBound - qGroups - kGroups))
                    }
                }
            }
            timed(.attention) { attention.run(layer: layerIndex, rows: rows, pool: pool) }
            timed(.outputProjection) {
                s.inputD.prepare(from: s.attention, sourceStride: d, rows: rows, columns: d, quantize: quantize, pool: pool)
                let groups = layer.output.groupCount
                pool.run { worker in
                    matmul(into: s.projected, outStride: d, layer.output, s.inputD, groups: pool.share(of: groups, worker: worker))
                }
            }
            // Feed-forward block.
            timed(.normsAndElementwise) {
                layer.feedForwardNorm.withUnsafeBufferPointer { w in
                    pool.forEachRow(rows) { n in
                        addInPlace(s.x + n * d, s.projected + n * d, count: d)
                        rmsNorm(into: s.normed + n * d, s.x + n * d, weight: w.baseAddress!, count: d, epsilon: c.rmsEpsilon)
                    }
                }
            }
            timed(.feedForward) {
                s.inputD.prepare(from: s.normed, sourceStride: d, rows: rows, columns: d, quantize: quantize, pool: pool)
                let gGroups = layer.gate.groupCount
                pool.run { worker in
                    let share = pool.share(of: 2 * gGroups, worker: worker)
                    let g = share.clamped(to: 0 ..< gGroups)
                    if !g.isEmpty { matmul(into: s.gate, outStride: f, layer.gate, s.inputD, groups: g) }
                    let u = share.clamped(to: gGroups ..< 2 * gGroups)
                    if !u.isEmpty { matmul(into: s.up, outStride: f, layer.up, s.inputD, groups: (u.lowerBound - gGroups) ..< (u.upperBound - gGroups)) }
                }
            }
            // The activation function is elementwise work (the cost model's "activation + residual").
            timed(.normsAndElementwise) { siluMultiply(s.gate, up: s.up, count: rows * f, pool: pool) }
            timed(.feedForward) {
                s.inputF.prepare(from: s.gate, sourceStride: f, rows: rows, columns: f, quantize: quantize, pool: pool)
                let dGroups = layer.down.groupCount
                pool.run { worker in
                    matmul(into: s.projected, outStride: d, layer.down, s.inputF, groups: pool.share(of: dGroups, worker: worker))
                }
            }
            timed(.normsAndElementwise) {
                pool.forEachRow(rows) { n in addInPlace(s.x + n * d, s.projected + n * d, count: d) }
            }
        }
        // Final norm and LM head for the rows whose logits are wanted.
        timed(.normsAndElementwise) {
            for i in 0 ..< logitRows {
                model.outputNorm.withUnsafeBufferPointer { w in
                    rmsNorm(into: s.normed + i * d, s.x + s.logitSourceRows[i] * d, weight: w.baseAddress!, count: d, epsilon: c.rmsEpsilon)
                }
            }
        }
        timed(.lmHead) {
            s.inputD.prepare(from: s.normed, sourceStride: d, rows: logitRows, columns: d, quantize: quantize, pool: pool)
            let groups = model.lmHead.groupCount
            pool.run { worker in
                matmul(into: s.logits, outStride: c.vocabularySize, model.lmHead, s.inputD, groups: pool.share(of: groups, worker: worker))
            }
        }
    }
}
