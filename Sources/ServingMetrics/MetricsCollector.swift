import DiscreteEvent

/// Accumulates what a simulation run produces; `summary(…)` turns it into `MetricsSummary`.
///
/// A value type: a sweep runs one collector per simulation, and collectors never share state.
/// The simulator calls
/// - `recordArrival(at:)` when a request arrives (counts arrivals and the arrival window),
/// - `record(_:)` when a request completes (its `RequestTimeline`),
/// - `reject(id:reason:)` when a request is refused,
/// - `recordStep(at:duration:…)` after every batch step of every replica, for what depends on
///   when steps ran: inter-token latency and the timeline bins.
/// Step totals (steps, busy time, batch sizes, energy, KV utilisation) are not kept here: each
/// replica keeps its own `StepTotals`, and `summary(steps:…)` takes their sum.
///
/// Storage depends on `percentiles`:
/// - `.sketch` (what `simulate` uses): every request latency goes to a `LatencyHistogram`, a
///   mergeable log-linear sketch whose percentiles are within 0.2% (relative) of the exact
///   nearest-rank sample, and the overload rule's per-arrival TTFTs to `ArrivalBinnedLatency`.
///   Memory is constant in the number of completed requests.
/// - `.exact`: request latencies are kept as `Int64` nanoseconds (5 arrays, 40 bytes a completed
///   request) and sorted once in `summary`, for percentiles interpolated between ranks (see
///   `Percentiles`); memory grows with the run.
/// Inter-token latency always goes to a weighted `LatencyHistogram` (O(1) a step); step activity
/// to `TimelineBins` (bounded memory).
public struct MetricsCollector: Sendable {
    /// How request-latency percentiles are computed.
    public enum PercentileMode: String, Sendable, CaseIterable {
        /// Streaming sketch: constant memory, percentiles within `LatencyHistogram.relativeError`.
        case sketch
        /// Every sample kept and sorted: exact, interpolated percentiles; memory grows with the run.
        case exact
    }
    public let percentiles: PercentileMode
    /// The SLOs requests are judged by as they complete (goodput).
    public let slo: ServiceLevelObjectives
    private var good = 0
    // Sketch mode.
    private var ttftSketch = LatencyHistogram()
    private var tpotSketch = LatencyHistogram()
    private var e2eSketch = LatencyHistogram()
    private var queueingSketch = LatencyHistogram()
    private var tailGapSketch = LatencyHistogram()
    private var ttftByArrival = ArrivalBinnedLatency()
    private var completedCount = 0

    // Per completed request, in completion order (parallel arrays).
    private var arrivalNanoseconds: [Int64] = []
    private var ttftNanoseconds: [Int64] = []
    /// -1 where TPOT is undefined (one output token).
    private var tpotNanoseconds: [Int64] = []
    private var e2eNanoseconds: [Int64] = []
    private var queueingNanoseconds: [Int64] = []
    /// Requests' tail time between tokens (`RequestTimeline.tailGap`), when tracked; only defined ones.
    private var tailGapNanoseconds: [Int64] = []

    public private(set) var arrivals = 0
    public private(set) var firstArrival: SimInstant?
    public private(set) var lastArrival: SimInstant?
    public private(set) var lastCompletion: SimInstant?
    /// Rejections per cause name.
    public private(set) var rejections: [String: Int] = [:]
    /// Cause names that indicate overload (see `RejectionCause.indicatesOverload`).
    private var overloadCauses: Set<String> = []
    public private(set) var promptTokens = 0
    public private(set) var outputTokens = 0
    public private(set) var cachedPromptTokens = 0
    public private(set) var preemptions = 0

    public private(set) var lastStepEnd: SimInstant?
    public private(set) var interTokenLatency = LatencyHistogram()
    public private(set) var timeline: TimelineBins

    /// - Parameters:
    ///   - expectedRequests: capacity to reserve for the per-request arrays (0: grow as needed).
    ///   - timelineBinWidth: initial width of the timeline CSV's bins.
    ///   - maxTimelineBins: bins kept before they are merged pairwise (memory bound).
    ///   - percentiles: sketch (constant memory) or exact (every sample kept).
    ///   - slo: the SLOs for goodput, judged as each request completes.
    public init(expectedRequests: Int = 0, timelineBinWidth: SimDuration = .seconds(1), maxTimelineBins: Int = 4096,
                percentiles: PercentileMode = .exact, slo: ServiceLevelObjectives = .none) {
        timeline = TimelineBins(width: timelineBinWidth, maxBins: maxTimelineBins)
        self.percentiles = percentiles
        self.slo = slo
        if expectedRequests > 0 && percentiles == .exact {
            arrivalNanoseconds.reserveCapacity(expectedRequests)
            ttftNanoseconds.reserveCapacity(expectedRequests)
            tpotNanoseconds.reserveCapacity(expectedRequests)
            e2eNanoseconds.reserveCapacity(expectedRequests)
            queueingNanoseconds.reserveCapacity(expectedRequests)
        }
    }

    /// Completed requests so far.
    public var completed: Int { completedCount }
    /// Rejected requests so far.
    public var rejected: Int { rejections.values.reduce(0, +) }

    /// Notes an arrival (call once per request, rejected or not).
    public mutating func recordArrival(at instant: SimInstant) {
        arrivals += 1
        noteArrivalInstant(instant)
        timeline.withBin(at: instant) { $0.arrivals += 1 }
    }

    private mutating func noteArrivalInstant(_ instant: SimInstant) {
        if firstArrival == nil || instant < firstArrival! { firstArrival = instant }
        if lastArrival == nil || instant > lastArrival! { lastArrival = instant }
    }

    /// Values the collector holds (per-request samples, sketch buckets, timeline bins): with
    /// `.sketch` it depends on the range of the latencies and of the run's length in bins, both
    /// bounded, not on how many requests completed; with `.exact` it grows by five a request.
    public var retainedValues: Int {
        arrivalNanoseconds.count + ttftNanoseconds.count + tpotNanoseconds.count + e2eNanoseconds.count + queueingNanoseconds.count
            + tailGapNanoseconds.count + tailGapSketch.bucketCount
            + ttftSketch.bucketCount + tpotSketch.bucketCount + e2eSketch.bucketCount + queueingSketch.bucketCount
            + ttftByArrival.bucketCount + interTokenLatency.bucketCount + timeline.bins.count
    }

    /// Records a completed request.
    /// - Complexity: O(1) amortised.
    public mutating func record(_ t: RequestTimeline) {
        completedCount += 1
        let ttft = t.timeToFirstToken.nanoseconds, tpot = t.timePerOutputToken?.nanoseconds ?? -1, e2e = t.endToEnd.nanoseconds
        if slo.isMet(ttft: ttft, tpot: tpot, e2e: e2e) { good += 1 }
        switch percentiles {
        case .exact:
            arrivalNanoseconds.append(t.arrival.nanoseconds)
            ttftNanoseconds.append(ttft)
            tpotNanoseconds.append(tpot)
            e2eNanoseconds.append(e2e)
            queueingNanoseconds.append(t.queueing.nanoseconds)
            if let g = t.tailGap { tailGapNanoseconds.append(g.nanoseconds) }
        case .sketch:
            ttftSketch.add(t.timeToFirstToken, weight: 1)
            if tpot >= 0 { tpotSketch.add(SimDuration(nanoseconds: tpot), weight: 1) }
            e2eSketch.add(t.endToEnd, weight: 1)
            queueingSketch.add(t.queueing, weight: 1)
            if let g = t.tailGap { tailGapSketch.add(g, weight: 1) }
            ttftByArrival.add(arrival: t.arrival, t.timeToFirstToken)
        }
        noteArrivalInstant(t.arrival)
        if lastCompletion == nil || t.completion > lastCompletion! { lastCompletion = t.completion }
        promptTokens += t.promptTokens
        outputTokens += t.outputTokens
        cachedPromptTokens += t.cachedPromptTokens
        preemptions += t.preemptions
        timeline.withBin(at: t.completion) { $0.completions += 1 }
    }

    /// Records a refused request.
    public mutating func reject(id: Int, reason: some RejectionCause) {
        let name = reason.name
        rejections[name, default: 0] += 1
        if reason.indicatesOverload { overloadCauses.insert(name) }
    }

    /// Records one batch step of one replica: it started at `start` and took `duration`.
    ///
    /// Every request that decoded a token in the step and had its previous token when the step
    /// started sees an inter-token latency of `duration`: the ITL histogram gets `duration` with
    /// weight `decodeTokens − stalledDecodes` (the others' longer gaps come through
    /// `recordInterTokenGap`). The step also
    /// goes to the timeline bin of its start; the run's totals are the replicas' (`summary(steps:)`).
    /// - Complexity: O(1) amortised.
    public mutating func recordStep(at start: SimInstant, duration: SimDuration, batchSize: Int, prefillTokens: Int,
                                    decodeTokens: Int, kvUtilization: Double, energyJoules: Double = 0, stalledDecodes: Int = 0,
                                    communication: SimDuration = .zero) {
        let end = start + duration
        if lastStepEnd == nil || end > lastStepEnd! { lastStepEnd = end }
        interTokenLatency.add(duration, weight: decodeTokens - stalledDecodes)
        timeline.withBin(at: start) { bin in
            bin.step.add(duration: duration, batchSize: batchSize, prefillTokens: prefillTokens, decodeTokens: decodeTokens,
                         energyJoules: energyJoules, kvUtilization: kvUtilization, communication: communication)
        }
    }

    /// Records a run of back-to-back steps, the first starting at `start` and each the next
    /// as the one before ends, whose decodes closed gaps equal to their step's duration (a
    /// replica's fast-forwarded decode steps): the same as `recordStep` for each, with the steps
    /// of one timeline bin added to it at once.
    /// - Note: the timeline bins count no fragmentation, so the samples' is ignored here.
    public mutating func recordSteps(startingAt start: SimInstant, _ samples: [StepSample]) {
        guard !samples.isEmpty else { return }
        var binStart = start
        var bin = StepTotals()
        var t = start.nanoseconds
        var width = timeline.width.nanoseconds
        var binIndex = max(t, 0) / width
        for s in samples {
            let index = max(t, 0) / width
            if index != binIndex {
                flush(bin, at: binStart)
                bin = StepTotals()
                binStart = SimInstant(nanoseconds: t)
                width = timeline.width.nanoseconds
                binIndex = max(t, 0) / width
            }
            interTokenLatency.add(SimDuration(nanoseconds: s.durationNanoseconds), weight: s.decodeTokens)
            var counted = s
            counted.kvFragmentationNanoseconds = 0
            bin.add(counted)
            t += s.durationNanoseconds
        }
        flush(bin, at: binStart)
        let end = SimInstant(nanoseconds: t)
        if lastStepEnd == nil || end > lastStepEnd! { lastStepEnd = end }
    }

    private mutating func flush(_ totals: StepTotals, at instant: SimInstant) {
        timeline.withBin(at: instant) { $0.step.merge(totals) }
    }

    /// One request's gap between two consecutive tokens that is longer than the step that closed
    /// it: the request waited out other steps (a prompt-only step, a KV transfer, a swap).
    public mutating func recordInterTokenGap(_ gap: SimDuration, count: Int = 1) {
        interTokenLatency.add(gap, weight: count)
    }

    /// TTFT and TPOT at `levels` evenly spaced quantiles (1/levels, 2/levels, …, 1) of the
    /// completed requests, in seconds: the points of their CDFs. From the sketch or the exact
    /// samples, as `percentiles` says; empty when nothing completed.
    public func latencyQuantiles(levels: Int = 100) -> (ttft: [(seconds: Double, fraction: Double)], tpot: [(seconds: Double, fraction: Double)]) {
        let levels = min(max(levels, 1), 1000)
        let fractions = (1...levels).map { Double($0) / Double(levels) }
        switch percentiles {
        case .exact:
            func points(_ x: [Int64]) -> [(seconds: Double, fraction: Double)] {
                let sorted = x.sorted()
                return fractions.compactMap { p in Percentiles.interpolated(sorted: sorted, p).map { ($0 * 1e-9, p) } }
            }
            return (points(ttftNanoseconds), points(tpotNanoseconds.filter { $0 >= 0 }))
        case .sketch:
            func points(_ h: LatencyHistogram) -> [(seconds: Double, fraction: Double)] {
                fractions.compactMap { p in h.percentile(p).map { ($0.seconds, p) } }
            }
            return (points(ttftSketch), points(tpotSketch))
        }
    }

    /// Summarises the run.
    /// - Parameters:
    ///   - steps: the run's step totals, summed over its replicas.
    ///   - slo: targets for goodput (none: every completed request counts).
    ///   - replicas: number of replicas, for the busy fraction.
    ///   - endedAt: the simulated end of the run; defaults to the last completion or step end.
    ///     Throughputs divide by `endedAt − 0` (runs start at instant zero).
    ///   - overloadRule: thresholds of the overload verdict.
    ///   - idlePowerWatts: idle power of one replica (all its devices). The summary's energy is
    ///     the steps' energy plus this power over every replica's time without a step, from 0 to
    ///     `endedAt` (see `MetricsSummary.energyJoules`).
    ///   With `.exact` percentiles, `slo` may differ from the collector's (goodput is recounted
    ///   from the samples); with `.sketch`, goodput was counted against the collector's `slo` as
    ///   requests completed, and `slo` must be that one.
    /// - Complexity: O(n log n) in completed requests with `.exact` (sorting); O(1) in them with `.sketch`.
    public func summary(steps: StepTotals, slo: ServiceLevelObjectives? = nil, replicas: Int = 1, endedAt: SimInstant? = nil,
                        overloadRule: OverloadRule = OverloadRule(), idlePowerWatts: Double = 0) -> MetricsSummary {
        let slo = slo ?? self.slo
        let end = endedAt ?? max(lastCompletion ?? .zero, lastStepEnd ?? .zero, lastArrival ?? .zero)
        let seconds = end.seconds
        let perSecond: (Double) -> Double = { seconds > 0 ? $0 / seconds : 0 }
        var good = self.good
        if percentiles == .exact && slo != self.slo {
            good = 0
            for i in 0..<ttftNanoseconds.count where slo.isMet(ttft: ttftNanoseconds[i], tpot: tpotNanoseconds[i], e2e: e2eNanoseconds[i]) {
                good += 1
            }
        }
        precondition(percentiles == .exact || slo == self.slo, "a sketch collector counts goodput against the SLO it was made with")
        let rejectedCount = rejected
        let arrived = max(arrivals, completed + rejectedCount)
        var s = MetricsSummary()
        s.requestsArrived = arrived
        s.requestsCompleted = completed
        s.requestsRejected = rejectedCount
        s.rejectionsByReason = rejections.sorted { $0.key < $1.key }.map { RejectionCount(reason: $0.key, count: $0.value) }
        s.simulatedSeconds = seconds
        s.lastArrivalSeconds = lastArrival?.seconds ?? 0
        switch percentiles {
        case .exact:
            s.timeToFirstToken = DurationStatistics(nanoseconds: ttftNanoseconds)
            s.timePerOutputToken = DurationStatistics(nanoseconds: tpotNanoseconds.filter { $0 >= 0 })
            s.endToEnd = DurationStatistics(nanoseconds: e2eNanoseconds)
            s.queueing = DurationStatistics(nanoseconds: queueingNanoseconds)
            s.tailTimeBetweenTokens = DurationStatistics(nanoseconds: tailGapNanoseconds)
        case .sketch:
            s.timeToFirstToken = ttftSketch.statistics
            s.timePerOutputToken = tpotSketch.statistics
            s.endToEnd = e2eSketch.statistics
            s.queueing = queueingSketch.statistics
            s.tailTimeBetweenTokens = tailGapSketch.statistics
        }
        s.interTokenLatency = interTokenLatency.statistics
        s.requestsPerSecond = perSecond(Double(completed))
        s.inputTokensPerSecond = perSecond(Double(promptTokens))
        s.outputTokensPerSecond = perSecond(Double(outputTokens))
        s.slo = slo
        s.requestsMeetingSLO = good
        s.goodputRequestsPerSecond = perSecond(Double(good))
        s.batchSizeMean = steps.batchSizeMean
        s.batchSizeMax = steps.batchSizeMax
        s.steps = steps.steps
        s.kvUtilizationMean = steps.kvUtilizationMean
        s.kvUtilizationMax = steps.kvUtilizationMax
        s.communicationSeconds = Double(steps.communicationNanoseconds) * 1e-9
        s.busySeconds = Double(steps.busyNanoseconds) * 1e-9
        s.busyFraction = seconds > 0 ? Double(steps.busyNanoseconds) * 1e-9 / (seconds * Double(max(replicas, 1))) : 0
        let idleSeconds = max(0, seconds * Double(max(replicas, 1)) - Double(steps.busyNanoseconds) * 1e-9)
        s.stepEnergyJoules = steps.energyJoules
        s.idleEnergyJoules = idlePowerWatts * idleSeconds
        s.energyJoules = s.stepEnergyJoules + s.idleEnergyJoules
        s.energyJoulesPerOutputToken = outputTokens > 0 ? s.energyJoules / Double(outputTokens) : 0
        s.preemptions = preemptions
        s.promptTokens = promptTokens
        s.outputTokens = outputTokens
        s.cachedPromptTokens = cachedPromptTokens
        s.prefixHitRate = promptTokens > 0 ? Double(cachedPromptTokens) / Double(promptTokens) : 0
        let verdict = overloadRule.evaluate(arrived: arrived, completed: completed, rejections: rejections, overloadCauses: overloadCauses,
                                            firstArrival: firstArrival, lastArrival: lastArrival,
                                            ttft: percentiles == .exact ? .exact(arrivalNanoseconds: arrivalNanoseconds, ttftNanoseconds: ttftNanoseconds)
                                                                        : .binned(ttftByArrival))
        s.overloaded = verdict.overloaded
        s.overloadReason = verdict.reason
        return s
    }
}
