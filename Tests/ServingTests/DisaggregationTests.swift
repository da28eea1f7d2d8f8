import CostModel
import DiscreteEvent
import HardwareModel
import ServingMetrics
import Testing
@testable import Serving

/// Disaggregated prefill and decode (issue 14), one request worked by hand: the prefill replica
/// runs the 1,000-token prefill (1 ms) and makes the first token; the KV of 1,000 tokens at
/// 1,000 B a token crosses a 1 MB/s link with 1 ms latency (1.001 s); the decode replica then
/// decodes the other 4 tokens (4 ms). The prefill replica never decodes; neither holds KV at the end.
@Test func aRequestPrefillsOnOnePoolAndDecodesOnTheOtherAfterItsKVLands() throws {
    var config = configuration(.continuousBatching, replicas: 2)
    config.disaggregation = DisaggregationConfiguration(prefillReplicas: 1, kvBytesPerToken: 1000, linkBytesPerSecond: 1e6,
                                                        linkLatency: .milliseconds(1), decodeKVCache: config.kvCache)
    let perStep = LinearStepCostModel(fixed: Seconds(1e-3), perToken: .zero, perContextToken: .zero)
    let (outcome, run) = try simulate(config, [RequestSpec(id: 0, arrival: .zero, promptTokens: 1000, outputTokens: 5)], cost: perStep)
    let done = try #require(run.completions.first)
    #expect(done.firstToken.nanoseconds == 1_000_000)
    #expect(done.completion.nanoseconds == 1_000_000 + 1_001_000_000 + 4_000_000)
    #expect(run.steps.map(\.replica) == [0, 1, 1, 1, 1])
    #expect(run.steps.first!.prefillTokens == 1000 && run.steps.dropFirst().allSatisfy { $0.prefillTokens == 0 && $0.decodeTokens == 1 })
    #expect(outcome.replicas.map(\.pool) == [.prefill, .decode])
    #expect(outcome.replicas.allSatisfy { $0.finalPinnedBlocks == 0 })
    let transfers = try #require(outcome.kvTransfers)
    #expect(transfers.count == 1 && transfers.max.nanoseconds == 1_001_000_000)
}

/// Transfers from one prefill replica share its link: two prompts prefilled in one step leave one
/// after the other, so the second lands a whole transfer later; a one-token request never leaves.
@Test func transfersFromOnePrefillReplicaQueueOnItsLink() throws {
    var config = configuration(.continuousBatching, replicas: 3)
    config.disaggregation = DisaggregationConfiguration(prefillReplicas: 1, kvBytesPerToken: 1000, linkBytesPerSecond: 1e6,
                                                        linkLatency: .zero, decodeKVCache: config.kvCache)
    let perStep = LinearStepCostModel(fixed: Seconds(1e-3), perToken: .zero, perContextToken: .zero)
    let requests = [RequestSpec(id: 0, arrival: .zero, promptTokens: 100, outputTokens: 2),
                    RequestSpec(id: 1, arrival: .zero, promptTokens: 100, outputTokens: 2),
                    RequestSpec(id: 2, arrival: .zero, promptTokens: 100, outputTokens: 1)]
    let (outcome, run) = try simulate(config, requests, cost: perStep)
    let byID = Dictionary(uniqueKeysWithValues: run.completions.map { ($0.id, $0) })
    // 100 tokens × 1,000 B over 1 MB/s = 0.1 s each, back to back after the 1 ms prefill step.
    #expect(byID[0]!.completion.nanoseconds == 1_000_000 + 100_000_000 + 1_000_000)
    #expect(byID[1]!.completion.nanoseconds == 1_000_000 + 200_000_000 + 1_000_000)
    #expect(byID[2]!.completion.nanoseconds == 1_000_000)
    #expect(outcome.kvTransfers?.count == 2)
    // Both decodes ran on the decode pool (the first replica with the fewest outstanding, replica 1 both times).
    #expect(run.steps.dropFirst().map(\.replica) == [1, 1])
}

/// Conservation with disaggregated pools over 1,000 random clusters: every request completes or
/// is rejected, no KV is held at the end on either pool, and the prefill pool never decodes.
@Test func disaggregatedServingConservesRequestsAndKV() throws {
    var transfers = 0
    for seed in UInt64(9000)..<10_000 {
        var (config, requests) = randomScenario(seed: seed)
        if config.scheduler.kind == .staticBatching { config.scheduler.kind = .continuousBatching }
        var rng = TestRNG(state: seed)
        config.replicas = max(2, config.replicas)
        config.disaggregation = DisaggregationConfiguration(
            prefillReplicas: rng.int(1...(config.replicas - 1)), kvBytesPerToken: 2, linkBytesPerSecond: [1e5, 1e7][rng.int(0...1)],
            linkLatency: SimDuration(nanoseconds: Int64(rng.int(0...50_000))), decodeKVCache: config.kvCache)
        config.disaggregation!.routing = DecodeRouting.allCases[rng.int(0...2)]
        let (outcome, run) = try simulate(config, requests)
        #expect(run.completions.count + run.rejections.count == requests.count, "seed \(seed)")
        for done in run.completions { #expect(done.outputTokens == requests[done.id].outputTokens, "seed \(seed)") }
        for r in outcome.replicas {
            #expect(r.finalPinnedBlocks == 0 && r.kvCache.peakUsedBlocks <= r.kvCache.totalBlocks, "seed \(seed)")
            if r.pool == .prefill { #expect(r.statistics.decodeTokens == 0, "seed \(seed): a prefill replica decoded") }
        }
        transfers += outcome.kvTransfers?.count ?? 0
    }
    #expect(transfers > 10_000, "\(transfers) transfers")
}

/// Routing between the pools: two requests prefilled on the one prefill replica, ten milliseconds
/// apart. Least-outstanding sends the second to the idle decode replica 2; `mostFreeKV` too (more
/// free blocks); `paired` keeps both with prefill replica 0's partner, decode replica 1.
@Test func landedRequestsFollowTheDecodeRouting() throws {
    let requests = [RequestSpec(id: 0, arrival: .zero, promptTokens: 100, outputTokens: 200),
                    RequestSpec(id: 1, arrival: SimInstant(nanoseconds: 10_000_000), promptTokens: 100, outputTokens: 200)]
    let perStep = LinearStepCostModel(fixed: Seconds(1e-3), perToken: .zero, perContextToken: .zero)
    var decodeReplicas: [DecodeRouting: Set<Int>] = [:]
    for routing in DecodeRouting.allCases {
        var config = configuration(.continuousBatching, replicas: 3)
        config.disaggregation = DisaggregationConfiguration(prefillReplicas: 1, kvBytesPerToken: 1000, linkBytesPerSecond: 1e9,
                                                            linkLatency: .zero, decodeKVCache: config.kvCache)
        config.disaggregation!.routing = routing
        let (outcome, run) = try simulate(config, requests, cost: perStep)
        #expect(run.completions.count == 2 && outcome.replicas.allSatisfy { $0.finalPinnedBlocks == 0 })
        #expect(run.steps.filter { $0.prefillTokens > 0 }.allSatisfy { $0.replica == 0 })
        decodeReplicas[routing] = Set(run.steps.filter { $0.prefillTokens == 0 }.map(\.replica))
    }
    #expect(decodeReplicas[.leastOutstanding] == [1, 2])
    #expect(decodeReplicas[.mostFreeKV] == [1, 2])
    #expect(decodeReplicas[.paired] == [1])
}
