import Foundation
import CostModel
import DiscreteEvent
import HardwareModel
import ServingMetrics
@testable import Serving

/// Keeps everything the cluster reports, in order.
struct RecordingRecorder: ServingRecorder {
    var completions: [RequestTimeline] = []
    var rejections: [RejectedRequest] = []
    var steps: [StepRecord] = []
    /// Inter-token gaps longer than the step that closed them.
    var stalledGaps: [SimDuration] = []
    mutating func interTokenGap(_ gap: SimDuration, count: Int) { stalledGaps += repeatElement(gap, count: count) }
    mutating func completed(_ request: RequestTimeline) { completions.append(request) }
    mutating func rejected(_ request: RejectedRequest) { rejections.append(request) }
    mutating func stepped(_ step: StepRecord) { steps.append(step) }

    var meanTTFT: Double { completions.map { ($0.firstToken - $0.arrival).seconds }.reduce(0, +) / Double(completions.count) }
    var meanE2E: Double { completions.map { ($0.completion - $0.arrival).seconds }.reduce(0, +) / Double(completions.count) }
    /// TPOT of each request with more than one output token, sorted.
    var sortedTPOT: [Double] {
        completions.filter { $0.outputTokens > 1 }
            .map { ($0.completion - $0.firstToken).seconds / Double($0.outputTokens - 1) }.sorted()
    }
    func percentile(_ values: [Double], _ p: Double) -> Double {
        values[min(values.count - 1, Int((p * Double(values.count)).rounded(.up)) - 1)]
    }
}

/// 1 ms per step + 20 µs per new token + 0.1 µs per context token: a GPU-like shape.
let testCost = LinearStepCostModel(fixed: Seconds(1e-3), perToken: Seconds(20e-6), perContextToken: Seconds(1e-7))

func simulate(_ configuration: ClusterConfiguration, _ requests: [RequestSpec],
              cost: any StepCostModel = testCost) throws -> (SimulationOutcome, RecordingRecorder) {
    var recorder = RecordingRecorder()
    let outcome = try ServingSimulator.run(configuration, costModel: cost, requests: ArrayRequestSource(requests), recorder: &recorder)
    return (outcome, recorder)
}

func configuration(_ scheduler: SchedulerKind, kv: KVCacheKind = .paged, kvTokens: Int = 1_000_000, replicas: Int = 1,
                   maxBatch: Int = 256, tokensPerStep: Int = 4096, blockTokens: Int = 16,
                   maxSequence: Int = 8192, preemption: PreemptionMode = .recompute, watermark: Double = 0,
                   router: RouterKind = .roundRobin) -> ClusterConfiguration {
    ClusterConfiguration(
        replicas: replicas,
        limits: ServingLimits(maxBatchSize: maxBatch, maxTokensPerStep: tokensPerStep),
        scheduler: SchedulerConfiguration(kind: scheduler),
        kvCache: KVCacheConfiguration(kind: kv, bytesPerToken: 1, capacityBytes: Double(kvTokens), blockTokens: blockTokens,
                                      watermark: watermark, maxSequenceTokens: maxSequence, preemption: preemption),
        router: router)
}

/// Small deterministic generator for tests (SplitMix64).
struct TestRNG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// Poisson arrivals at `rate` per second with lengths from `lengths`.
func poissonRequests(count: Int, ratePerSecond: Double, seed: UInt64, lengths: (inout TestRNG) -> (Int, Int)) -> [RequestSpec] {
    var rng = TestRNG(state: seed)
    var t = 0.0
    return (0..<count).map { i in
        t += -log(1 - rng.unit()) / ratePerSecond
        let (p, o) = lengths(&rng)
        return RequestSpec(id: i, arrival: SimInstant(nanoseconds: Int64(t * 1e9)), promptTokens: p, outputTokens: o)
    }
}
