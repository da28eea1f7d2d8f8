import DiscreteEvent
import ServingMetrics

/// Feeds a `MetricsCollector` (and optionally a per-request CSV) from the cluster's reports.
public struct MetricsRecorder: ServingRecorder {
    public var collector: MetricsCollector
    /// Per-request CSV rows go here when set; errors are kept and rethrown by the runner.
    public let requestsCSV: RequestCSVWriter?
    public private(set) var writeError: (any Error)?

    public init(collector: MetricsCollector = MetricsCollector(), requestsCSV: RequestCSVWriter? = nil) {
        self.collector = collector
        self.requestsCSV = requestsCSV
    }

    public mutating func arrived(id: Int, at instant: SimInstant) { collector.recordArrival(at: instant) }

    public mutating func completed(_ timeline: RequestTimeline) {
        collector.record(timeline)
        if let csv = requestsCSV, writeError == nil {
            do { try csv.append(timeline) } catch { writeError = error }
        }
    }

    public mutating func rejected(_ r: RejectedRequest) { collector.reject(id: r.id, reason: r.reason) }

    public mutating func stepped(_ s: StepRecord) {
        collector.recordStep(at: s.start, duration: s.duration, batchSize: s.batchSize, prefillTokens: s.prefillTokens,
                             decodeTokens: s.decodeTokens, kvUtilization: s.kvUtilisation, energyJoules: s.energyJoules,
                             stalledDecodes: s.stalledDecodes, communication: s.communication)
    }

    public mutating func stepped(run steps: [StepRecord], samples: [StepSample]) {
        guard let first = steps.first else { return }
        collector.recordSteps(startingAt: first.start, samples)
    }

    public mutating func interTokenGap(_ gap: SimDuration, count: Int) { collector.recordInterTokenGap(gap, count: count) }
}
