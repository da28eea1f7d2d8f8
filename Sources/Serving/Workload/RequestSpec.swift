import DiscreteEvent

/// One request as the workload describes it, before the simulator touches it.
///
/// Produced by trace readers and generators (in arrival order) and consumed by the
/// cluster. `prefixHashes` are the ids of the prompt's leading KV blocks (Mooncake's
/// `hash_ids`, 512 tokens a block there): two requests can share cached KV for as many
/// leading ids as they have in common.
public struct RequestSpec: Hashable, Sendable {
    /// Position in the workload, 0-based; unique within a run.
    public var id: Int
    public var arrival: SimInstant
    public var promptTokens: Int
    public var outputTokens: Int
    /// Optional conversation/session id (for routing affinity).
    public var session: Int?
    /// Prefix block hashes and the number of tokens each hash covers.
    public var prefixHashes: [UInt64]
    public var prefixBlockTokens: Int
    /// Priority class; 0 is the most urgent.
    public var priority: Int
    /// Speculative decoding's per-draft-token acceptance rate for this request, in [0, 1], from
    /// the trace's `acceptance` column; nil for the scenario's rate.
    public var acceptanceRate: Double?

    public init(id: Int, arrival: SimInstant, promptTokens: Int, outputTokens: Int,
                session: Int? = nil, prefixHashes: [UInt64] = [], prefixBlockTokens: Int = 0,
                priority: Int = 0, acceptanceRate: Double? = nil) {
        self.id = id
        self.arrival = arrival
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.session = session
        self.prefixHashes = prefixHashes
        self.prefixBlockTokens = prefixBlockTokens
        self.priority = priority
        self.acceptanceRate = acceptanceRate
    }
}
