import DiscreteEvent

/// Decode-prioritising iteration-level batching (Orca-style selective batching without
/// chunking). Every running request decodes in every step; a waiting prompt joins only if it
/// fits *whole* in the token budget the decodes leave (or the replica is otherwise idle).
/// TPOT is protected; time to first token suffers when the batch is full.
public struct DecodePriority: BatchScheduler {
    public init() {}
    public var priorityClasses: Int { 1 }
    public var releasesOnCompletion: Bool { true }
    public var reformsDecodeBatches: Bool { true }

    public mutating func formBatch<KV: KVCacheManager>(_ replica: inout ReplicaState<KV>, table: inout RequestTable, now: SimInstant) {
        var budget = replica.limits.maxTokensPerStep - replica.addDecodes(table: &table)
        while let head = replica.headOfWaiting {
            let need = table.phase[Int(head)] == .swapped ? 0 : replica.remainingPrefill(head, table)
            if !replica.plan.isEmpty && need > budget { break }
            guard let slot = replica.admitHead(table: &table, now: now) else { break }
            if table.isPrefilling(slot) { budget -= replica.addPrefillChunk(slot, budget: .max, table: table) }
        }
    }
}
