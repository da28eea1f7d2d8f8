import DiscreteEvent

/// Rejected requests of one reason.
public struct RejectionCount: Hashable, Sendable {
    public var reason: String
    public var count: Int
}

/// Everything a run reports. Built by `MetricsCollector.summary(…)`; rendered by
/// `renderedText()`, `renderedJSON()`. Metric definitions: `RequestTimeline`.
///
/// - Throughputs divide by `simulatedSeconds` (from instant zero to the end of the run).
/// - `goodputRequestsPerSecond` = completed requests that meet every SLO in `slo` / `simulatedSeconds`.
/// - `kvUtilizationMean` = `Σ (used/total)·d / Σ d` over steps (busy-time weighted).
/// - `busyFraction` = `Σ step durations / (simulatedSeconds · replicas)`.
/// - `prefixHitRate` = `cachedPromptTokens / promptTokens` over completed requests.
/// - `energyJoules` = energy of every replica from 0 to `simulatedSeconds`: each step's energy
///   (all the replica's devices at idle power for the step's duration plus their dynamic power
///   while busy) plus idle power for the time the replica ran no step
///   (`stepEnergyJoules + idleEnergyJoules`); it equals the sum of the replicas' energies.
/// - `energyJoulesPerOutputToken` = `energyJoules / outputTokens` (completed requests' output tokens).
public struct MetricsSummary: Hashable, Sendable {
    public var requestsArrived = 0
    public var requestsCompleted = 0
    public var requestsRejected = 0
    public var rejectionsByReason: [RejectionCount] = []
    public var simulatedSeconds = 0.0
    /// When the last request arrived (0 if none): the time after it is the drain tail, in which
    /// the replicas finish the queue with no new work, and which throughputs are averaged over too.
    public var lastArrivalSeconds = 0.0
    public var timeToFirstToken = DurationStatistics.empty
    public var timePerOutputToken = DurationStatistics.empty
    public var endToEnd = DurationStatistics.empty
    public var queueing = DurationStatistics.empty
    public var interTokenLatency = DurationStatistics.empty
    /// Per request, the mean of its longest 10% of inter-token gaps (Mooncake's TBT); empty
    /// unless the run tracked it (`SimulationRunner.tracksTailGaps`).
    public var tailTimeBetweenTokens = DurationStatistics.empty
    public var requestsPerSecond = 0.0
    public var inputTokensPerSecond = 0.0
    public var outputTokensPerSecond = 0.0
    public var slo = ServiceLevelObjectives.none
    public var requestsMeetingSLO = 0
    public var goodputRequestsPerSecond = 0.0
    public var steps = 0
    public var batchSizeMean = 0.0
    public var batchSizeMax = 0
    public var kvUtilizationMean = 0.0
    public var kvUtilizationMax = 0.0
    public var busyFraction = 0.0
    /// Exposed communication summed over every replica's steps (collectives and pipeline
    /// transfers not hidden behind compute), seconds: part of the busy time.
    public var communicationSeconds = 0.0
    /// Step time summed over every replica, seconds.
    public var busySeconds = 0.0
    /// Steps plus idle time, all replicas (see above).
    public var energyJoules = 0.0
    /// The steps' share of `energyJoules`.
    public var stepEnergyJoules = 0.0
    /// Idle power × the replicas' time without a step.
    public var idleEnergyJoules = 0.0
    public var energyJoulesPerOutputToken = 0.0
    public var preemptions = 0
    public var promptTokens = 0
    public var outputTokens = 0
    public var cachedPromptTokens = 0
    public var prefixHitRate = 0.0
    public var overloaded = false
    public var overloadReason = ""

    public init() {}

    /// Requests neither completed nor rejected when the run ended.
    public var requestsUnfinished: Int { requestsArrived - requestsCompleted - requestsRejected }
}
