import DiscreteEvent
import Foundation
import Testing
@testable import Serving

/// A small random cluster and workload; capacity is tight so that preemption, eviction,
/// queue limits and deadlines all happen somewhere in the sweep.
func randomScenario(seed: UInt64) -> (ClusterConfiguration, [RequestSpec]) {
    var rng = TestRNG(state: seed &* 0x2545_F491_4F6C_DD1D &+ 17)
    let kind = KVCacheKind.allCases[rng.int(0...2)]
    let blockTokens = [1, 4, 16][rng.int(0...2)]
    let maxSequence = rng.int(160...400)
    let kvTokens = kind == .contiguous ? maxSequence * rng.int(1...4) : rng.int(maxSequence...(3 * maxSequence))
    var scheduler = SchedulerConfiguration(kind: SchedulerKind.allCases[rng.int(0...4)], classes: rng.int(1...3))
    if rng.int(0...1) == 0 { scheduler.admissionDeadline = .milliseconds(Int64(rng.int(5...200))) }
    let config = ClusterConfiguration(
        replicas: rng.int(1...3),
        limits: ServingLimits(maxBatchSize: rng.int(1...12), maxTokensPerStep: rng.int(16...256),
                              maxWaitingQueue: rng.int(0...3) == 0 ? rng.int(0...6) : 1000),
        scheduler: scheduler,
        kvCache: KVCacheConfiguration(kind: kind, bytesPerToken: 2, capacityBytes: Double(2 * kvTokens), blockTokens: blockTokens,
                                      watermark: [0, 0.01, 0.1][rng.int(0...2)], maxSequenceTokens: maxSequence,
                                      preemption: rng.int(0...1) == 0 ? .recompute : .swap, hostLinkBytesPerSecond: 1e9),
        router: RouterKind.allCases[rng.int(0...3)])
    var t: Int64 = 0
    let chains: [[UInt64]] = (0..<4).map { c in (0..<12).map { UInt64(c * 100 + $0) } }
    let requests = (0..<rng.int(10...60)).map { i -> RequestSpec in
        t += Int64(rng.int(0...3) == 0 ? 0 : rng.int(0...20_000_000))
        let prompt = rng.int(1...250)
        let output = rng.int(1...150)
        var spec = RequestSpec(id: i, arrival: SimInstant(nanoseconds: t), promptTokens: prompt, outputTokens: output,
                               session: rng.int(0...1) == 0 ? rng.int(0...5) : nil, priority: rng.int(0...3))
        if rng.int(0...1) == 0 {
            // Shared prefixes: a chain's first blocks, then private ones.
            let chain = chains[rng.int(0...3)]
            let blocks = (prompt + 15) / 16
            let shared = min(blocks, rng.int(0...blocks))
            spec.prefixHashes = Array(chain.prefix(shared)) + (shared..<blocks).map { UInt64(10_000 + i * 100 + $0) }
            spec.prefixBlockTokens = 16
        }
        return spec
    }
    return (config, requests)
}

/// The books every run keeps: each request arrives, and completes (with exactly its tokens, in
/// time order) or is rejected, once; no replica holds more KV than it has, and none holds any at
/// the end; a replica's steps never overlap or go back in time.
func expectConserved(_ outcome: SimulationOutcome, _ run: RecordingRecorder, _ requests: [RequestSpec], _ context: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(outcome.arrived == requests.count, "\(context)", sourceLocation: sourceLocation)
    #expect(run.completions.count + run.rejections.count == requests.count, "\(context)", sourceLocation: sourceLocation)
    let ids = run.completions.map(\.id) + run.rejections.map(\.id)
    #expect(Set(ids).count == requests.count, "\(context): a request was reported twice or never", sourceLocation: sourceLocation)
    for done in run.completions {
        let spec = requests[done.id]
        #expect(done.outputTokens == spec.outputTokens && done.promptTokens == spec.promptTokens, "\(context)", sourceLocation: sourceLocation)
        #expect(done.arrival == spec.arrival && done.scheduled >= done.arrival, "\(context)", sourceLocation: sourceLocation)
        #expect(done.firstToken > done.scheduled && done.completion >= done.firstToken, "\(context)", sourceLocation: sourceLocation)
    }
    for replica in outcome.replicas {
        #expect(replica.kvCache.peakUsedBlocks <= replica.kvCache.totalBlocks, "\(context)", sourceLocation: sourceLocation)
        #expect(replica.finalPinnedBlocks == 0, "\(context): KV still held at the end", sourceLocation: sourceLocation)
    }
    var lastEnd: [Int: SimInstant] = [:]
    for step in run.steps {
        #expect(step.start >= lastEnd[step.replica, default: .zero], "\(context)", sourceLocation: sourceLocation)
        lastEnd[step.replica] = step.start + step.duration
    }
}

@Test func everyRequestCompletesOrIsRejectedAndKVReturnsToZero() throws {
    var preempted = 0, rejected = 0, completed = 0
    for seed in UInt64(0)..<120 {
        let (config, requests) = randomScenario(seed: seed)
        let (outcome, run) = try simulate(config, requests)
        let context = "seed \(seed): \(config.scheduler.kind) \(config.kvCache.kind) \(config.kvCache.preemption)"
        expectConserved(outcome, run, requests, context)
        for replica in outcome.replicas {
            #expect(replica.statistics.decodeTokens + replica.statistics.prefillTokens > 0 || replica.statistics.steps == 0)
        }
        // Tokens: every completed request's output was produced exactly once per token,
        // except tokens recomputed after a preemption (which are prefill, not decode).
        let decodes = outcome.replicas.reduce(0) { $0 + $1.statistics.decodeTokens }
        let expectedDecodes = run.completions.reduce(0) { $0 + $1.outputTokens - 1 }
        #expect(decodes <= expectedDecodes, "\(context)")
        preempted += outcome.totalPreemptions
        rejected += run.rejections.count
        completed += run.completions.count
    }
    // The sweep must exercise the interesting paths, or it proves little.
    #expect(preempted > 20 && rejected > 20 && completed > 2000, "preempted \(preempted), rejected \(rejected), completed \(completed)")
}

@Test func theSameScenarioAndSeedGiveIdenticalRecords() throws {
    for seed in UInt64(200)..<210 {
        let (config, requests) = randomScenario(seed: seed)
        let (a, runA) = try simulate(config, requests)
        let (b, runB) = try simulate(config, requests)
        #expect(a == b)
        #expect(runA.completions == runB.completions && runA.rejections == runB.rejections && runA.steps == runB.steps)
    }
}

/// Speculative decoding keeps the books: over 1,000 random clusters with random draft lengths,
/// acceptance rates and batch limits, every request completes with exactly its output tokens
/// (a round never produces more than the request still needs) or is rejected, the KV cache
/// (grown by the drafts, rolled back to the accepted ones) is empty at the end, and each verified
/// round produces between one token and one plus its drafts.
@Test func speculativeDecodingConservesRequestsTokensAndKV() throws {
    var rounds = 0, completed = 0
    for seed in UInt64(1000)..<2000 {
        var (config, requests) = randomScenario(seed: seed)
        var rng = TestRNG(state: seed &* 0x9E37_79B9_7F4A_7C15 &+ 3)
        let acceptance: SpeculationConfiguration.Acceptance = rng.int(0...1) == 0
            ? .fixed([0, 0.5, 0.8, 1][rng.int(0...3)]) : .uniform(min: 0.2, max: 0.95)
        config.speculation = SpeculationConfiguration(draftTokens: rng.int(1...6), acceptance: acceptance,
                                                      maxBatchSize: rng.int(1...12), seed: seed, treeWidth: rng.int(1...3))
        requests = Array(requests.prefix(30))
        // Some requests bring their own rate, as from a trace's `acceptance` column.
        for i in requests.indices where rng.int(0...3) == 0 { requests[i].acceptanceRate = [0, 0.3, 1][rng.int(0...2)] }
        let (outcome, run) = try simulate(config, requests)
        let context = "seed \(seed): \(config.scheduler.kind) \(config.kvCache.kind) \(config.kvCache.preemption) k \(config.speculation!.draftTokens) w \(config.speculation!.treeWidth)"
        #expect(run.completions.count + run.rejections.count == requests.count, "\(context)")
        #expect(Set(run.completions.map(\.id) + run.rejections.map(\.id)).count == requests.count, "\(context)")
        for done in run.completions {
            #expect(done.outputTokens == requests[done.id].outputTokens, "\(context)")
            #expect(done.firstToken > done.scheduled && done.completion >= done.firstToken, "\(context)")
        }
        for replica in outcome.replicas {
            #expect(replica.kvCache.peakUsedBlocks <= replica.kvCache.totalBlocks, "\(context)")
            #expect(replica.finalPinnedBlocks == 0, "\(context): KV still held at the end")
        }
        rounds += outcome.replicas.reduce(0) { $0 + $1.statistics.steps }
        completed += run.completions.count
    }
    #expect(completed > 10_000 && rounds > 10_000, "completed \(completed), steps \(rounds)")
}

/// The acceptance draws: a fixed rate of 0 never accepts, 1 always accepts every draft, and the
/// mean tokens per round at rate `a` approach `(1 − a^(k+1)) / (1 − a)`.
@Test func acceptanceDrawsFollowTheChainFormula() {
    let never = SpeculationConfiguration(draftTokens: 4, acceptance: .fixed(0), maxBatchSize: 8, seed: 7)
    let always = SpeculationConfiguration(draftTokens: 4, acceptance: .fixed(1), maxBatchSize: 8, seed: 7)
    #expect((0..<100).allSatisfy { never.accepted(request: $0, generated: 3, drafts: 4) == 0 })
    #expect((0..<100).allSatisfy { always.accepted(request: $0, generated: 3, drafts: 4) == 4 })
    for a in [0.3, 0.6, 0.8] {
        let c = SpeculationConfiguration(draftTokens: 4, acceptance: .fixed(a), maxBatchSize: 8, seed: 11)
        var total = 0
        let n = 200_000
        for i in 0..<n { total += 1 + c.accepted(request: i % 1000, generated: i / 1000, drafts: 4) }
        let expected = (1 - pow(a, 5)) / (1 - a)
        #expect(abs(Double(total) / Double(n) - expected) < 0.01, "a = \(a): \(Double(total) / Double(n)) vs \(expected)")
    }
    // Reproducible: the same keys give the same draw.
    let c = SpeculationConfiguration(draftTokens: 3, acceptance: .uniform(min: 0.2, max: 0.9), maxBatchSize: 8, seed: 5)
    #expect(c.accepted(request: 42, generated: 17, drafts: 3) == c.accepted(request: 42, generated: 17, drafts: 3))
    #expect(c.rate(request: 42) >= 0.2 && c.rate(request: 42) <= 0.9)
}
