/// Caps one replica's scheduler obeys.
public struct ServingLimits: Hashable, Sendable {
    /// Most sequences in one step (vLLM `max_num_seqs`).
    public var maxBatchSize: Int
    /// Most new tokens (prefill chunk tokens + one per decode) in one step (vLLM
    /// `max_num_batched_tokens`; Sarathi-Serve's token budget). A single prompt longer than the
    /// budget is still prefilled alone by the unchunked schedulers, so nothing starves.
    public var maxTokensPerStep: Int
    /// Most requests left waiting on the replica after a scheduling pass. Arrivals the pass
    /// cannot admit are rejected (`queueFull`), newest first, while more than this wait; a
    /// request admitted by the first pass after its arrival needs no slot, so 0 means "admit
    /// at the next step boundary or reject".
    public var maxWaitingQueue: Int

    public init(maxBatchSize: Int = 256, maxTokensPerStep: Int = 8192, maxWaitingQueue: Int = 1_000_000) {
        precondition(maxBatchSize > 0 && maxTokensPerStep > 0 && maxWaitingQueue >= 0)
        self.maxBatchSize = maxBatchSize
        self.maxTokensPerStep = maxTokensPerStep
        self.maxWaitingQueue = maxWaitingQueue
    }
}
