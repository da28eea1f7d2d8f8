import Diagnostics
import CPUExecutor
import CostModel
import DiscreteEvent
import HardwareModel
import Serving
import ServingMetrics

/// The serving setup `serve-trace` and `validate --model` use for a trace file: one replica,
/// a simulator scheduler, and a KV cache that never limits the executor's sequence slots.
public struct TraceServingPolicy: Sendable, Equatable {
    public var scheduler: SchedulerKind
    /// Most sequences in one step (the scheduler's `maxBatchSize`; the executor's sequence slots).
    public var maxBatchSize: Int
    /// Most new tokens per step (decodes + prompt chunks; the scheduler's `maxTokensPerStep`).
    public var tokenBudget: Int
    public var kvCache: KVCacheKind
    public var blockTokens: Int

    /// The defaults: Sarathi-style chunked prefill, 8 sequences, a 128-token budget, paged KV.
    public init(scheduler: SchedulerKind = .chunkedPrefill, maxBatchSize: Int = 8, tokenBudget: Int = 128,
                kvCache: KVCacheKind = .paged, blockTokens: Int = 16) {
        precondition(maxBatchSize >= 1 && tokenBudget >= 1 && blockTokens >= 1)
        self.scheduler = scheduler
        self.maxBatchSize = maxBatchSize
        self.tokenBudget = tokenBudget
        self.kvCache = kvCache
        self.blockTokens = blockTokens
    }

    /// The simulator configuration for serving requests of at most `contextLength` tokens on
    /// `model`. The KV cache holds `maxBatchSize` sequences of `contextLength` tokens (rounded up
    /// to whole blocks), with no admission watermark: exactly what the executor's own cache
    /// holds, so admission is limited by sequence slots, never by KV, and nothing is preempted.
    public func configuration(model: LlamaConfig, contextLength: Int) -> ClusterConfiguration {
        let bytesPerToken = ExecutorStepRunner.kvBytesPerToken(model)
        let perSequence = (contextLength + blockTokens - 1) / blockTokens * blockTokens
        return ClusterConfiguration(
            replicas: 1,
            limits: ServingLimits(maxBatchSize: maxBatchSize, maxTokensPerStep: tokenBudget),
            scheduler: SchedulerConfiguration(kind: scheduler),
            kvCache: KVCacheConfiguration(kind: kvCache, bytesPerToken: bytesPerToken,
                                          capacityBytes: Double(maxBatchSize * perSequence) * bytesPerToken,
                                          blockTokens: blockTokens, watermark: 0, maxSequenceTokens: contextLength))
    }

    /// One line for reports.
    public var summary: String {
        "\(scheduler.rawValue), \(maxBatchSize) sequences, \(tokenBudget)-token budget, \(kvCache.rawValue) KV"
    }
}

/// A trace served through `ServingSimulator`: measured (steps on the executor) or predicted
/// (steps priced by a cost model), with the same scheduler decisions code.
public struct ServedTrace: Sendable {
    /// Completed requests, by id.
    public var timelines: [RequestTimeline]
    public var rejected: Int
    /// Forward steps run (or priced).
    public var steps: Int
    public var generatedTokens: Int
    /// Seconds from time 0 to the last event (the last completion).
    public var makespanSeconds: Double
    public var outcome: SimulationOutcome
    /// Every step with its measured time (measured runs only; empty when predicted).
    public var stepLog: [MeasuredStep] = []

    public var timeToFirstToken: DurationStatistics { DurationStatistics(nanoseconds: timelines.map(\.timeToFirstToken.nanoseconds)) }
    public var timePerOutputToken: DurationStatistics {
        DurationStatistics(nanoseconds: timelines.compactMap { $0.timePerOutputToken?.nanoseconds })
    }
    public var endToEnd: DurationStatistics { DurationStatistics(nanoseconds: timelines.map(\.endToEnd.nanoseconds)) }
}

/// Serves a list of requests through the simulator's scheduler with a step runner.
public enum TraceServing {
    /// The context a session must hold for `requests`: the longest prompt + output.
    public static func contextLength(for requests: [RequestSpec]) -> Int {
        requests.map { $0.promptTokens + $0.outputTokens }.max() ?? 1
    }

    /// Measured: every step runs on the CPU executor and lasts what it took on `clock`.
    /// - Throws: `InputError` for a configuration the executor cannot serve, `ExecutorError`
    ///   when a step does not fit the session.
    public static func measure(_ requests: [RequestSpec], configuration: ClusterConfiguration, model: LlamaModel,
                               threads: Int, clock: any ExecutorClock = MonotonicClock()) throws -> ServedTrace {
        var runner = try ExecutorStepRunner(model: model, configuration: configuration,
                                            contextLength: contextLength(for: requests), threads: threads, clock: clock)
        var served = try serve(requests, configuration: configuration, runner: &runner)
        served.stepLog = runner.log
        return served
    }

    /// Predicted: every step is priced by `costModel` (the same configuration and requests as `measure`).
    public static func predict(_ requests: [RequestSpec], configuration: ClusterConfiguration,
                               costModel: any StepCostModel) throws -> ServedTrace {
        var recorder = TraceRecorder()
        let outcome = try ServingSimulator.run(configuration, costModel: costModel, requests: source(requests), recorder: &recorder)
        return recorder.result(outcome)
    }

    /// Serves `requests` with any runner; `runner` is left as the run ended.
    public static func serve<R: StepRunner>(_ requests: [RequestSpec], configuration: ClusterConfiguration,
                                            runner: inout R) throws -> ServedTrace {
        var recorder = TraceRecorder()
        let outcome = try ServingSimulator.run(configuration, runner: &runner, requests: source(requests), recorder: &recorder)
        return recorder.result(outcome)
    }

    /// Requests in arrival order (stable), renumbered 0, 1, 2, … in that order as every source is.
    static func source(_ requests: [RequestSpec]) -> ArrayRequestSource {
        let order = requests.indices.sorted { (requests[$0].arrival, $0) < (requests[$1].arrival, $1) }
        return ArrayRequestSource(order.map { requests[$0] })
    }
}

/// Keeps the completed requests' timelines and counts rejections (steps are the replicas').
struct TraceRecorder: ServingRecorder {
    var timelines: [RequestTimeline] = []
    var rejected = 0

    mutating func completed(_ timeline: RequestTimeline) { timelines.append(timeline) }
    mutating func rejected(_ r: RejectedRequest) { rejected += 1 }
    mutating func stepped(_ s: StepRecord) {}

    func result(_ outcome: SimulationOutcome) -> ServedTrace {
        ServedTrace(timelines: timelines.sorted { $0.id < $1.id }, rejected: rejected, steps: outcome.stepTotals.steps,
                    generatedTokens: timelines.reduce(0) { $0 + $1.outputTokens }, makespanSeconds: outcome.makespan.seconds,
                    outcome: outcome)
    }
}
