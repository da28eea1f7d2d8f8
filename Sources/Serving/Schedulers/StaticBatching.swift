import DiscreteEvent

/// Request-level batching (the pre-Orca baseline, e.g. FasterTransformer / HF `generate`):
/// when the previous batch has fully drained, admit up to `maxBatchSize` waiting requests
/// (within the token budget), prefill them together, then decode until the last one ends.
/// Short requests finish early but keep their slot and KV until the batch ends, and newcomers
/// wait for the whole batch: the cost that continuous batching removes (Yu et al., *Orca*, OSDI 2022).
public struct StaticBatching: BatchScheduler {
    public init() {}
    public var priorityClasses: Int { 1 }
    public var releasesOnCompletion: Bool { false }
    public var reformsDecodeBatches: Bool { true }

    public mutating func formBatch<KV: KVCacheManager>(_ replica: inout ReplicaState<KV>, table: inout RequestTable, now: SimInstant) {
        if replica.running.isEmpty {
            var budget = replica.limits.maxTokensPerStep
            while let head = replica.headOfWaiting {
                let need = replica.remainingPrefill(head, table)
                if !replica.running.isEmpty && need > budget { break }
                guard replica.admitHead(table: &table, now: now) != nil else { break }
                budget -= need
            }
        }
        // Every member still prefilling (just admitted, or swapped back in) prefills whole.
        var prefilling = false
        for slot in replica.running where table.phase[Int(slot)] == .running && table.isPrefilling(slot) {
            _ = replica.addPrefillChunk(slot, budget: .max, table: table)
            prefilling = true
        }
        if !prefilling { replica.addDecodes(table: &table) }
    }
}
