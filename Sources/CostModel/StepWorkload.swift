import HardwareModel

/// What one forward step of a replica does, summarised so that it can be priced in O(1)
/// whatever the batch size: the cost of every operator is linear in these sums.
///
/// A step mixes prefill chunks (a run of new prompt tokens of one sequence, appended after
/// `contextBefore` tokens already in that sequence's KV cache) and decode entries: one new token
/// of a sequence whose context, including the new token, is `contextLength`, or, under
/// speculative decoding, `q` tokens verified at once (the last token and `q − 1` drafts).
public struct StepWorkload: Hashable, Sendable {
    /// New prompt tokens across all prefill chunks.
    public var prefillTokens: Int = 0
    /// Number of prefill chunks (sequences prefilling in this step).
    public var prefillSequences: Int = 0
    /// Σ over chunks of the query-key pairs causal attention scores:
    /// `c · contextBefore + c · (c + 1) / 2` for a chunk of `c` tokens.
    public var prefillAttentionPairs: Double = 0
    /// Σ over chunks of KV positions the chunk's attention reads (`contextBefore + c`).
    public var prefillContextTokens: Int = 0
    /// Query tokens of the decode entries: one per decoding sequence, `q` per verifying one.
    public var decodeTokens: Int = 0
    /// Σ over decoding sequences of their context length including their new tokens.
    public var decodeContextTokens: Int = 0
    /// Σ over verifying entries of `q − 1`: the query tokens beyond one per sequence.
    public var verifiedExtraTokens: Int = 0
    /// Σ over verifying entries of their query-key pairs beyond `contextBefore + q`.
    public var verifiedExtraPairs: Double = 0
    /// Draft tokens proposed per verifying sequence (the most of any entry); 0 without speculation.
    public var draftTokens: Int = 0

    public init() {}

    /// Sequences that decode (or verify) in this step.
    @inlinable public var decodeSequences: Int { decodeTokens - verifiedExtraTokens }
    /// Σ over decode entries of the query-key pairs: the context for one token;
    /// `q · contextBefore + q · (q + 1) / 2` for `q` verified tokens.
    @inlinable public var decodeAttentionPairs: Double { Double(decodeContextTokens) + verifiedExtraPairs }

    /// All new tokens processed by the step (rows of every weight GEMM).
    @inlinable public var totalTokens: Int { prefillTokens + decodeTokens }
    @inlinable public var isEmpty: Bool { prefillTokens == 0 && decodeTokens == 0 }

    /// Adds a prefill chunk of `tokens` new tokens after `contextBefore` cached ones.
    @inlinable public mutating func addPrefillChunk(tokens c: Int, contextBefore: Int) {
        precondition(c > 0 && contextBefore >= 0)
        prefillTokens += c
        prefillSequences += 1
        prefillAttentionPairs += Double(c) * Double(contextBefore) + Double(c) * Double(c + 1) / 2
        prefillContextTokens += contextBefore + c
    }

    /// Adds one decode token of a sequence whose context, including this token, is `contextLength`.
    @inlinable public mutating func addDecode(contextLength: Int) {
        precondition(contextLength > 0)
        decodeTokens += 1
        decodeContextTokens += contextLength
    }

    /// Adds a verification of `tokens` query tokens (the sequence's last token and `tokens − 1`
    /// drafts) after `contextBefore` cached tokens: one pass of the target model over all of them.
    /// With `width` w > 1 the drafts form a tree of w chains of `k = (tokens − 1) / w` drafts
    /// each: a draft at depth d attends to the context, the last token and its d ancestors
    /// (tree attention), not to the other chains.
    @inlinable public mutating func addVerification(tokens q: Int, contextBefore: Int, width: Int = 1) {
        precondition(q > 0 && contextBefore >= 0 && width >= 1 && (q - 1) % width == 0)
        let k = (q - 1) / width
        decodeTokens += q
        decodeContextTokens += contextBefore + q
        verifiedExtraTokens += q - 1
        // Pairs: every query token sees the context; the last token itself (1); each chain's draft
        // at depth d sees the last token and d drafts (d + 1). One chain: q · (q + 1) / 2 in all.
        let treePairs = 1 + Double(width) * (Double(k) * Double(k + 1) / 2 + Double(k))
        verifiedExtraPairs += Double(q) * Double(contextBefore) + treePairs - Double(contextBefore + q)
        draftTokens = max(draftTokens, k)
    }
}

/// What bounds an operator or a step.
public enum Bound: String, Codable, Sendable, CaseIterable {
    case compute, memory, communication, overhead
}

/// The priced result of one forward step on one replica (all its devices together).
public struct StepCost: Hashable, Sendable {
    /// Wall time of the step, overheads included.
    public var duration: Seconds
    /// Energy drawn by all devices of the replica during the step.
    public var energy: Joules
    /// The term that dominates the step.
    public var boundBy: Bound
    /// Of `duration`, the time the step's devices spend in exposed communication: collectives
    /// and pipeline transfers not hidden behind its compute (0 on one device).
    public var communication: Seconds
    public init(duration: Seconds, energy: Joules, boundBy: Bound, communication: Seconds = .zero) {
        self.duration = duration
        self.energy = energy
        self.boundBy = boundBy
        self.communication = communication
    }
}

/// Prices forward steps for one replica. The simulator depends on this protocol only,
/// so that tests can substitute a closed-form model.
public protocol StepCostModel: Sendable {
    func cost(of step: StepWorkload) -> StepCost

    /// The costs of `count` decode-only steps: `step` with `contextGrowth · i` more context
    /// tokens for `i = 1 ... count`, in order, appended to `costs`. Each equals
    /// `cost(of:)` of that step to the bit; a model may price the run faster than step by step
    /// (decode fast-forward prices thousands of such runs).
    func costs(ofDecodeRun step: StepWorkload, contextGrowth: Int, count: Int, into costs: inout [StepCost])
}

extension StepCostModel {
    public func costs(ofDecodeRun step: StepWorkload, contextGrowth: Int, count: Int, into costs: inout [StepCost]) {
        guard count > 0 else { return }
        for i in 1...count {
            var s = step
            s.decodeContextTokens += i * contextGrowth
            costs.append(cost(of: s))
        }
    }
}

extension StepWorkload {
    /// One of `m` equal micro-batches of this step: `⌈sequences / m⌉` of its decode and prefill
    /// sequences, with their share of its tokens, attention pairs and cached context.
    public func microBatch(_ m: Int) -> StepWorkload {
        guard m > 1 else { return self }
        var s = StepWorkload()
        if decodeSequences > 0 {
            let d = (decodeSequences + m - 1) / m
            let share = Double(d) / Double(decodeSequences)
            s.decodeTokens = max(d, Int((Double(decodeTokens) * share).rounded()))
            s.verifiedExtraTokens = s.decodeTokens - d
            s.decodeContextTokens = max(s.decodeTokens, Int((Double(decodeContextTokens) * share).rounded()))
            s.verifiedExtraPairs = verifiedExtraPairs * share
            s.draftTokens = draftTokens
        }
        if prefillSequences > 0 {
            let p = (prefillSequences + m - 1) / m
            let share = Double(p) / Double(prefillSequences)
            s.prefillSequences = p
            s.prefillTokens = max(p, Int((Double(prefillTokens) * share).rounded()))
            s.prefillAttentionPairs = prefillAttentionPairs * share
            s.prefillContextTokens = max(s.prefillTokens, Int((Double(prefillContextTokens) * share).rounded()))
        }
        return s
    }

    /// The step's prefill chunks and its decodes as two steps.
    public func splitPrefillDecode() -> (prefill: StepWorkload, decode: StepWorkload) {
        var p = self, d = self
        p.decodeTokens = 0; p.decodeContextTokens = 0; p.verifiedExtraTokens = 0; p.verifiedExtraPairs = 0; p.draftTokens = 0
        d.prefillTokens = 0; d.prefillSequences = 0; d.prefillAttentionPairs = 0; d.prefillContextTokens = 0
        return (p, d)
    }
}
