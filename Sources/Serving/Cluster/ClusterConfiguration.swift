import ServingMetrics

/// Everything that shapes a simulated cluster of identical replicas, already validated.
public struct ClusterConfiguration: Hashable, Sendable {
    public var replicas: Int
    public var limits: ServingLimits
    public var scheduler: SchedulerConfiguration
    public var kvCache: KVCacheConfiguration
    public var router: RouterKind
    /// Power a replica draws while it runs no step (all its devices), watts; 0 if unknown.
    public var idlePowerWatts: Double
    /// Speculative decoding, or nil for one token per decode.
    public var speculation: SpeculationConfiguration?
    /// Separate prefill and decode pools, or nil for co-located serving.
    public var disaggregation: DisaggregationConfiguration?
    /// Micro-batches in flight through pipeline stages, or nil for one batch at a time. With
    /// it, `replicas` counts micro-batch slots (`microBatches` per physical replica) and
    /// `kvCache` and `idlePowerWatts` are one slot's share.
    public var pipeline: PipelineConfiguration?
    /// Runs a replica's stretch of identical decode-only steps (no arrival, completion or new KV
    /// block before it ends) in one event instead of two per step. Output is identical to the
    /// bit either way (tested); off only to compare the paths.
    public var fastForwardDecodes = true
    /// Whether each request keeps its longest inter-token gaps, for its tail time between tokens
    /// (`RequestTimeline.tailGap`, Mooncake's TBT); a heap update per token, so off by default.
    public var tracksTailGaps = false

    /// The KV cache configuration of replica `r` (the decode pool's may differ).
    public func kvCache(ofReplica r: Int) -> KVCacheConfiguration {
        if let d = disaggregation, r >= d.prefillReplicas { return d.decodeKVCache }
        return kvCache
    }

    /// The idle power of replica `r`, watts.
    public func idlePowerWatts(ofReplica r: Int) -> Double {
        if let d = disaggregation, r >= d.prefillReplicas { return d.decodeIdlePowerWatts }
        return idlePowerWatts
    }

    public init(replicas: Int, limits: ServingLimits, scheduler: SchedulerConfiguration,
                kvCache: KVCacheConfiguration, router: RouterKind = .leastOutstanding, idlePowerWatts: Double = 0,
                speculation: SpeculationConfiguration? = nil) {
        precondition(replicas >= 1 && idlePowerWatts >= 0)
        self.replicas = replicas
        self.limits = limits
        self.scheduler = scheduler
        self.kvCache = kvCache
        self.router = router
        self.idlePowerWatts = idlePowerWatts
        self.speculation = speculation
    }
}

/// One replica's end-of-run report.
public struct ReplicaReport: Hashable, Sendable {
    public var index: Int
    public var statistics: ReplicaStatistics
    public var kvCache: KVCacheStatistics
    /// Busy time over the run's makespan.
    public var busyFraction: Double
    /// Step energy plus idle power over idle time, joules.
    public var energyJoules: Double
    /// KV blocks still held for requests when the run ended (0 when every request released its KV).
    public var finalPinnedBlocks: Int
    /// Its pool under disaggregated serving, nil when co-located.
    public var pool: DisaggregationConfiguration.Pool? = nil
    /// Under pipeline micro-batching: the physical replica and this slot's micro-batch
    /// (`index` is then the slot), nil otherwise.
    public var microBatch: PipelineSlot? = nil

    /// Time-weighted mean of KV blocks in use over total, across the busy time.
    public var meanKVUtilisation: Double { statistics.stepTotals.kvUtilizationMean }
    /// Time-weighted mean internal fragmentation (allocated but unused token slots).
    public var meanKVFragmentation: Double { statistics.stepTotals.kvFragmentationMean }
    /// Mean sequences per step.
    public var meanBatchSize: Double { statistics.stepTotals.batchSizeMean }
}

/// What a finished simulation reports besides the per-request records.
public struct SimulationOutcome: Hashable, Sendable {
    /// The instant of the last event (the last step's end, or the last arrival).
    public var makespan: SimInstantValue
    public var arrived: Int
    public var completed: Int
    public var rejected: Int
    public var rejectedByReason: [RejectionReason: Int]
    public var eventsHandled: Int
    /// Most requests in flight at once (request-table slots used).
    public var peakInFlight: Int
    public var replicas: [ReplicaReport]
    /// Bad trace rows the source skipped (`skipBadRows`).
    public var skippedRows: Int
    /// Why the first of them were skipped (`file: line N: message`, at most `TraceReader.keptReasons`).
    public var skippedRowReasons: [String] = []

    /// KV transfers between the pools under disaggregated serving (nil when co-located): from
    /// the end of the prefill step to the KV landing on the decode pool, link queueing included.
    public var kvTransfers: DurationStatistics? = nil

    /// Every replica's steps together.
    public var stepTotals: StepTotals { StepTotals.merged(replicas.map(\.statistics.stepTotals)) }
    public var totalPreemptions: Int { replicas.reduce(0) { $0 + $1.statistics.preemptions } }
    public var totalEnergyJoules: Double { replicas.reduce(0) { $0 + $1.energyJoules } }
    /// Prompt-token hit rate of the prefix caches, all replicas together.
    public var prefixHitRate: Double {
        let lookups = replicas.reduce(0) { $0 + $1.kvCache.prefixLookupTokens }
        let hits = replicas.reduce(0) { $0 + $1.kvCache.prefixHitTokens }
        return lookups == 0 ? 0 : Double(hits) / Double(lookups)
    }
}

import DiscreteEvent
/// `SimInstant` re-exported under a name that reads well in reports.
public typealias SimInstantValue = SimInstant
