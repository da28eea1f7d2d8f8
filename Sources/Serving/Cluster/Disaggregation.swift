import CostModel
import DiscreteEvent

/// Disaggregated prefill and decode (Splitwise, DistServe, Mooncake): replicas
/// `0..<prefillReplicas` form the prefill pool, the rest the decode pool.
///
/// Arrivals are routed (by the cluster's router) to the prefill pool only. A request whose prefill
/// completes there produces its first token, frees its KV on the prefill replica and ships that KV
/// to the decode pool: `residentTokens × kvBytesPerToken` bytes over the prefill replica's link
/// to the decode pool. Transfers from one prefill replica share its link and go one after
/// another (first come, first served); a transfer takes `bytes / linkBytesPerSecond` on the link
/// plus `linkLatency`. When it lands, the request joins the decode replica with the fewest
/// outstanding requests (lowest index on ties; `routing` picks another rule), which admits it with its KV resident (no prefill,
/// no swap charge) and decodes the rest of its tokens.
///
/// `kvBytesPerToken` is what one device of a prefill replica holds per token: with tensor
/// parallelism every device sends its own shard over its own link at once, so a transfer takes
/// one shard's time.
public struct DisaggregationConfiguration: Hashable, Sendable {
    public var prefillReplicas: Int
    public var kvBytesPerToken: Double
    public var linkBytesPerSecond: Double
    public var linkLatency: SimDuration
    /// The decode pool's KV cache (its devices may differ from the prefill pool's).
    public var decodeKVCache: KVCacheConfiguration
    /// Idle power of one decode replica, watts (the prefill pool's is the cluster's).
    public var decodeIdlePowerWatts: Double

    public init(prefillReplicas: Int, kvBytesPerToken: Double, linkBytesPerSecond: Double, linkLatency: SimDuration,
                decodeKVCache: KVCacheConfiguration, decodeIdlePowerWatts: Double = 0) {
        precondition(prefillReplicas >= 1 && kvBytesPerToken > 0 && linkBytesPerSecond > 0 && linkLatency.nanoseconds >= 0)
        self.prefillReplicas = prefillReplicas
        self.kvBytesPerToken = kvBytesPerToken
        self.linkBytesPerSecond = linkBytesPerSecond
        self.linkLatency = linkLatency
        self.decodeKVCache = decodeKVCache
        self.decodeIdlePowerWatts = decodeIdlePowerWatts
    }

    /// How a landed request picks its decode replica.
    public var routing: DecodeRouting = .leastOutstanding

    /// The pool of replica `r`.
    public func pool(of r: Int) -> Pool { r < prefillReplicas ? .prefill : .decode }

    public enum Pool: String, Sendable { case prefill, decode }
}

/// How a request whose KV has landed picks its decode replica (lowest index on ties).
public enum DecodeRouting: String, Codable, Sendable, CaseIterable {
    /// The decode replica with the fewest outstanding requests (least loaded; the default).
    case leastOutstanding
    /// The decode replica with the most free KV blocks (KV-capacity aware, as Mooncake's
    /// scheduler weighs a decode instance's free cache).
    case mostFreeKV
    /// A fixed partner: prefill replica `p` sends to decode replica `p mod decodeReplicas`
    /// (KV locality: a prefill machine and its decode machine share a rack or a node).
    case paired
}

/// Prices a step with the cost model of the replica's pool.
public struct PooledStepCostModelRunner: StepRunner {
    public let prefill: any StepCostModel
    public let decode: any StepCostModel
    public let prefillReplicas: Int
    public init(prefill: any StepCostModel, decode: any StepCostModel, prefillReplicas: Int) {
        self.prefill = prefill
        self.decode = decode
        self.prefillReplicas = prefillReplicas
    }
    public var needsEntries: Bool { false }
    public func run(_ step: ScheduledStep) -> StepCost {
        (step.replica < prefillReplicas ? prefill : decode).cost(of: step.workload)
    }
}
