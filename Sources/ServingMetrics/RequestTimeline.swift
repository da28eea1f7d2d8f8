import DiscreteEvent

/// The life of one completed request: THE one place InferSim's request metrics are defined.
///
/// Four instants on the simulated clock (points, `SimInstant`) and the durations between them
/// (intervals, `SimDuration`), following the points-versus-durations split of Vidur's
/// `docs/metrics.md`:
///
/// ```
/// arrival ──queueing──▶ scheduled ──▶ firstToken ──(outputTokens − 1) decode steps──▶ completion
///    └──────────── TTFT ──────────────────┘
///    └──────────────────────────── E2E ───────────────────────────────────────────────┘
/// ```
///
/// - `timeToFirstToken` (TTFT) `= firstToken − arrival`
/// - `timePerOutputToken` (TPOT) `= (completion − firstToken) / (outputTokens − 1)`;
///   undefined (`nil`) when `outputTokens == 1`, because there is no decode interval.
/// - `endToEnd` (E2E) `= completion − arrival`
/// - `queueing` `= scheduled − arrival`, where `scheduled` is the instant the request was
///   first admitted to a batch (a preempted request keeps its first admission).
/// - Inter-token latency (ITL) is not kept per request: the collector counts one sample per
///   output token after the first, the gap since the request's previous token. A request that
///   decoded in the step before gets the step's duration `d`; one that sat out steps (a
///   prompt-only step under prompts-first batching, a KV transfer, a swap) gets `d` plus the wait.
///
/// `cachedPromptTokens` are prompt tokens whose KV came from a prefix cache (not recomputed);
/// `preemptions` counts how often the request was evicted and had to be rescheduled.
public struct RequestTimeline: Hashable, Sendable {
    public var id: Int
    public var arrival: SimInstant
    public var scheduled: SimInstant
    public var firstToken: SimInstant
    public var completion: SimInstant
    public var promptTokens: Int
    public var outputTokens: Int
    public var preemptions: Int
    public var cachedPromptTokens: Int
    /// Which replica served it (0 for a single replica).
    public var replica: Int
    /// Its priority class (0 is the most urgent).
    public var priority: Int
    /// Time between tokens as Mooncake defines it: the mean of the request's longest 10% of
    /// inter-token gaps (at least one gap), stalls included; nil when not tracked or for a
    /// one-token output.
    public var tailGap: SimDuration?

    public init(id: Int, arrival: SimInstant, scheduled: SimInstant, firstToken: SimInstant, completion: SimInstant,
                promptTokens: Int, outputTokens: Int, preemptions: Int = 0, cachedPromptTokens: Int = 0, replica: Int = 0, priority: Int = 0,
                tailGap: SimDuration? = nil) {
        precondition(arrival <= scheduled && scheduled <= firstToken && firstToken <= completion,
                     "request \(id): instants must satisfy arrival <= scheduled <= firstToken <= completion")
        precondition(outputTokens >= 1 && promptTokens >= 0 && cachedPromptTokens >= 0 && preemptions >= 0,
                     "request \(id): token counts must be non-negative and outputTokens >= 1")
        self.id = id
        self.arrival = arrival
        self.scheduled = scheduled
        self.firstToken = firstToken
        self.completion = completion
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.preemptions = preemptions
        self.cachedPromptTokens = cachedPromptTokens
        self.replica = replica
        self.priority = priority
        self.tailGap = tailGap
    }

    /// TTFT `= firstToken − arrival`.
    @inlinable public var timeToFirstToken: SimDuration { firstToken - arrival }

    /// TPOT `= (completion − firstToken) / (outputTokens − 1)`, rounded to the nearest
    /// nanosecond; `nil` for a one-token output.
    @inlinable public var timePerOutputToken: SimDuration? {
        guard outputTokens > 1 else { return nil }
        let intervals = Int64(outputTokens - 1)
        let total = (completion - firstToken).nanoseconds
        return SimDuration(nanoseconds: (total + intervals / 2) / intervals)
    }

    /// E2E `= completion − arrival`.
    @inlinable public var endToEnd: SimDuration { completion - arrival }

    /// Queueing delay `= scheduled − arrival`.
    @inlinable public var queueing: SimDuration { scheduled - arrival }
}
