import DiscreteEvent
import ServingMetrics

/// Why a request was turned away instead of served. Every arrived request either completes
/// with all its output tokens or is rejected with one of these reasons.
public enum RejectionReason: String, Codable, Sendable, CaseIterable {
    /// Not admitted by the first scheduling pass after its arrival while the replica's waiting
    /// queue already held `maxWaitingQueue` requests.
    case queueFull
    /// `prompt + output` exceeds the maximum sequence length the KV policy serves.
    case exceedsMaxSequenceLength
    /// The request's KV could never fit in the replica's cache, even alone.
    case exceedsKVCapacity
    /// It waited longer than its admission deadline (SLO-aware admission sheds it).
    case deadlineExceeded
}

/// A request that produced all its output tokens.
///
/// Instants, not durations: `TTFT = firstToken - arrival`, `E2E = completion - arrival`,
/// `TPOT = (completion - firstToken) / (outputTokens - 1)` (defined once in ServingMetrics).
public struct CompletedRequest: Hashable, Sendable {
    public var id: Int
    public var arrival: SimInstant
    /// First admission into a running batch (end of queueing).
    public var scheduled: SimInstant
    public var firstToken: SimInstant
    public var completion: SimInstant
    public var promptTokens: Int
    public var outputTokens: Int
    public var replica: Int
    public var priority: Int
    /// Times the request was preempted (recompute or swap).
    public var preemptions: Int
    /// Prompt tokens whose KV was reused from the prefix cache.
    public var cachedPromptTokens: Int

    public init(id: Int, arrival: SimInstant, scheduled: SimInstant, firstToken: SimInstant, completion: SimInstant,
                promptTokens: Int, outputTokens: Int, replica: Int, priority: Int,
                preemptions: Int, cachedPromptTokens: Int) {
        self.id = id
        self.arrival = arrival
        self.scheduled = scheduled
        self.firstToken = firstToken
        self.completion = completion
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.replica = replica
        self.priority = priority
        self.preemptions = preemptions
        self.cachedPromptTokens = cachedPromptTokens
    }
}

/// A request that was turned away.
public struct RejectedRequest: Hashable, Sendable {
    public var id: Int
    public var arrival: SimInstant
    public var at: SimInstant
    public var promptTokens: Int
    public var outputTokens: Int
    public var reason: RejectionReason
    public init(id: Int, arrival: SimInstant, at: SimInstant, promptTokens: Int, outputTokens: Int, reason: RejectionReason) {
        self.id = id
        self.arrival = arrival
        self.at = at
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.reason = reason
    }
}

/// One forward step of one replica, as priced.
public struct StepRecord: Hashable, Sendable {
    public var replica: Int
    public var start: SimInstant
    public var duration: SimDuration
    public var prefillTokens: Int
    public var decodeTokens: Int
    /// Sequences in the batch.
    public var batchSize: Int
    /// Energy of the step in joules (from `StepCost.energy`, plus swap traffic none).
    public var energyJoules: Double
    /// KV blocks in use when the step was formed, and the replica's total.
    public var kvBlocksUsed: Int
    public var kvBlocksTotal: Int
    public init(replica: Int, start: SimInstant, duration: SimDuration, prefillTokens: Int, decodeTokens: Int,
                batchSize: Int, energyJoules: Double, kvBlocksUsed: Int, kvBlocksTotal: Int) {
        self.replica = replica
        self.start = start
        self.duration = duration
        self.prefillTokens = prefillTokens
        self.decodeTokens = decodeTokens
        self.batchSize = batchSize
        self.energyJoules = energyJoules
        self.kvBlocksUsed = kvBlocksUsed
        self.kvBlocksTotal = kvBlocksTotal
    }
    public var kvUtilisation: Double { kvBlocksTotal == 0 ? 0 : Double(kvBlocksUsed) / Double(kvBlocksTotal) }
}

/// Receives what the simulated cluster does. `ServingMetrics`' collector conforms; tests use
/// their own recorders. Generic, so the hot loop calls it without existential dispatch.
public protocol ServingRecorder {
    /// Called for every arrival, before it is routed, rejected or queued.
    mutating func arrived(id: Int, at instant: SimInstant)
    mutating func completed(_ request: CompletedRequest)
    mutating func rejected(_ request: RejectedRequest)
    /// Called once per step; implementations that do not keep step timelines can ignore it.
    mutating func stepped(_ step: StepRecord)
}

extension ServingRecorder {
    public mutating func arrived(id: Int, at instant: SimInstant) {}
}

extension RejectionReason: RejectionCause {}
