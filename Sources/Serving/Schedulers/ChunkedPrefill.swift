import DiscreteEvent

/// Stall-free batching with chunked prefills (Agrawal et al., *Sarathi-Serve*, OSDI 2024).
/// Every step first gives each decoding request its token, then spends what is left of the
/// token budget on prompt chunks: ongoing prefills first, then newly admitted requests.
/// Decodes never wait behind a long prompt, so TPOT stays flat under load; a long prompt
/// takes several steps to prefill.
public struct ChunkedPrefill: BatchScheduler {
    public init() {}
    public var priorityClasses: Int { 1 }
    public var releasesOnCompletion: Bool { true }
    public var reformsDecodeBatches: Bool { true }

    public mutating func formBatch<KV: KVCacheManager>(_ replica: inout ReplicaState<KV>, table: inout RequestTable, now: SimInstant) {
        Self.fill(&replica, table: &table, now: now)
    }

    /// The Sarathi step: decodes, then ongoing prefill chunks, then new admissions.
    static func fill<KV: KVCacheManager>(_ replica: inout ReplicaState<KV>, table: inout RequestTable, now: SimInstant) {
        var budget = replica.limits.maxTokensPerStep - replica.addDecodes(table: &table)
        var i = 0
        while budget > 0 && i < replica.running.count {
            let slot = replica.running[i]
            if table.phase[Int(slot)] == .running && table.isPrefilling(slot) {
                budget -= replica.addPrefillChunk(slot, budget: budget, table: table)
            }
            i += 1
        }
        while budget > 0 || replica.plan.isEmpty {
            guard let slot = replica.admitHead(table: &table, now: now) else { break }
            if table.isPrefilling(slot) {
                budget -= replica.addPrefillChunk(slot, budget: max(budget, 1), table: table)
            } else {
                // Swapped back in: decodes from the next step.
                if replica.plan.isEmpty { replica.addDecodes(table: &table) }
            }
        }
    }
}
