import DiscreteEvent

/// Iteration-level batching with prefill priority (Yu et al., *Orca*, OSDI 2022; vLLM's
/// default scheduler before chunked prefill). At every step boundary, waiting requests are
/// admitted while the batch, the token budget and the KV cache allow; if any were, the step
/// prefills their whole prompts; otherwise every running request decodes one token.
/// New arrivals therefore get a fast first token, but each prefill stalls all decodes (the
/// "generation stall" that raises p99 TPOT).
public struct ContinuousBatching: BatchScheduler {
    public init() {}
    public var priorityClasses: Int { 1 }
    public var releasesOnCompletion: Bool { true }
    public var reformsDecodeBatches: Bool { true }

    public mutating func formBatch<KV: KVCacheManager>(_ replica: inout ReplicaState<KV>, table: inout RequestTable, now: SimInstant) {
        var budget = replica.limits.maxTokensPerStep
        while let head = replica.headOfWaiting {
            let need = table.phase[Int(head)] == .swapped ? 0 : replica.remainingPrefill(head, table)
            if !replica.plan.isEmpty && need > budget { break }
            guard let slot = replica.admitHead(table: &table, now: now) else { break }
            if table.isPrefilling(slot) { budget -= replica.addPrefillChunk(slot, budget: .max, table: table) }
        }
        if replica.plan.isEmpty { replica.addDecodes(table: &table) }
    }
}
