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
    /// Internal fragmentation of the KV cache when the step was formed.
    public var kvFragmentation: Double
    /// Of `decodeTokens`, those whose request's previous token came before the step started: their
    /// inter-token gaps are longer than `duration` and are reported one by one
    /// (`ServingRecorder.interTokenGap`); the other decodes' gaps equal `duration`.
    public var stalledDecodes: Int
    /// Of `duration`, the exposed communication of the step (`StepCost.communication`).
    public var communication: SimDuration
    public init(replica: Int, start: SimInstant, duration: SimDuration, prefillTokens: Int, decodeTokens: Int,
                batchSize: Int, energyJoules: Double, kvBlocksUsed: Int, kvBlocksTotal: Int, kvFragmentation: Double = 0,
                stalledDecodes: Int = 0, communication: SimDuration = .zero) {
        self.replica = replica
        self.start = start
        self.duration = duration
        self.prefillTokens = prefillTokens
        self.decodeTokens = decodeTokens
        self.batchSize = batchSize
        self.energyJoules = energyJoules
        self.kvBlocksUsed = kvBlocksUsed
        self.kvBlocksTotal = kvBlocksTotal
        self.kvFragmentation = kvFragmentation
        self.stalledDecodes = stalledDecodes
        self.communication = communication
    }
    public var kvUtilisation: Double { kvBlocksTotal == 0 ? 0 : Double(kvBlocksUsed) / Double(kvBlocksTotal) }
}

/// Receives what the simulated cluster does. `ServingMetrics`' collector conforms; tests use
/// their own recorders. Generic, so the hot loop calls it without existential dispatch.
public protocol ServingRecorder {
    /// Called for every arrival, before it is routed, rejected or queued.
    mutating func arrived(id: Int, at instant: SimInstant)
    /// Called when a request has all its output tokens: its life, as the metrics define it.
    mutating func completed(_ request: RequestTimeline)
    mutating func rejected(_ request: RejectedRequest)
    /// Called once per step; implementations that do not keep step timelines can ignore it.
    mutating func stepped(_ step: StepRecord)
    /// Called for a run of back-to-back decode-only steps of one replica (a fast-forward
    /// window), in order, instead of `stepped` for each; `samples` are the same steps as
    /// `StepTotals` counts them. None of their decodes closed a longer gap.
    mutating func stepped(run steps: [StepRecord], samples: [StepSample])
    /// Called for decodes whose gap since their request's previous token is longer than the
    /// step that produced it (see `StepRecord.stalledDecodes`): `count` of them closed `gap`.
    mutating func interTokenGap(_ gap: SimDuration, count: Int)
}

extension ServingRecorder {
    public mutating func arrived(id: Int, at instant: SimInstant) {}
    public mutating func interTokenGap(_ gap: SimDuration, count: Int) {}
    public mutating func stepped(run steps: [StepRecord], samples: [StepSample]) {
        for step in steps { stepped(step) }
    }
}

extension RejectionReason: RejectionCause {}
