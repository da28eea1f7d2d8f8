import DiscreteEvent

/// Pipeline parallelism with several micro-batches in flight (vLLM's "virtual engines",
/// GPipe/Megatron micro-batching for inference).
///
/// A replica of `stages` pipeline stages runs `microBatches` independent schedulers, each with
/// its own batch, its own share of the KV cache (`1/microBatches` of the blocks, as vLLM v0's
/// `CacheEngine` divides `num_gpu_blocks` by the pipeline size) and its own batch limit
/// (`maxBatchSize` applies per micro-batch, as vLLM's `max_num_seqs` does per virtual engine).
/// The cluster models them as `microBatches` consecutive replica slots per physical replica.
///
/// Their steps share the stages: a step priced at `d` (every layer on one device, transfers
/// between stages included) occupies each stage for `d / stages` in turn, and enters a stage only
/// when the micro-batch before it has left (a flow shop, first come first served). A lone
/// micro-batch therefore takes `d` (per-request latency still sums its stages) while a full
/// pipeline finishes a micro-batch every `d / stages`. The pipeline bubble is whatever time a
/// stage waits for work; it is not a fixed fraction.
public struct PipelineConfiguration: Hashable, Sendable {
    public var stages: Int
    public var microBatches: Int
    public init(stages: Int, microBatches: Int) {
        precondition(stages >= 1 && microBatches >= 1)
        self.stages = stages
        self.microBatches = microBatches
    }

    /// The physical replica that replica slot `r` belongs to.
    @inlinable public func physicalReplica(of r: Int) -> Int { r / microBatches }
}

/// A micro-batch slot of a pipelined replica.
public struct PipelineSlot: Hashable, Sendable {
    public var replica: Int
    public var microBatch: Int
    public init(_ replica: Int, _ microBatch: Int) { self.replica = replica; self.microBatch = microBatch }
}

/// When each stage of each physical replica is next free.
struct PipelineStages {
    let configuration: PipelineConfiguration
    var freeAt: [SimInstant]

    init(_ configuration: PipelineConfiguration, physicalReplicas: Int) {
        self.configuration = configuration
        freeAt = Array(repeating: .zero, count: physicalReplicas * configuration.stages)
    }

    /// Books a step of replica slot `r` priced at `duration`, starting at `now`, through the
    /// stages of its physical replica; returns when it leaves the last stage, less `now`.
    mutating func book(_ r: Int, duration: SimDuration, now: SimInstant) -> SimDuration {
        let stages = configuration.stages
        let base = configuration.physicalReplica(of: r) * stages
        let perStage = SimDuration(nanoseconds: max(1, (duration.nanoseconds + Int64(stages) - 1) / Int64(stages)))
        var t = now
        for k in base..<(base + stages) {
            t = max(t, freeAt[k]) + perStage
            freeAt[k] = t
        }
        return t - now
    }
}
