import DiscreteEvent
import HardwareModel
import Testing
@testable import Serving

// KV budgets (issue 12): a sequence keeps what its budget allows, so the cache holds more
// sequences and a decode step reads fewer bytes.

@Test func budgetsKeepWhatTheySay() {
    #expect(KVBudget.full.retained(32_768) == 32_768)
    #expect(KVBudget.window(sinks: 4, window: 4092).retained(32_768) == 4096)
    #expect(KVBudget.window(sinks: 4, window: 4092).retained(100) == 100)
    #expect(KVBudget.heavyHitters(tokens: 2048).retained(32_768) == 2048)
    #expect(KVBudget.compressed(ratio: 4).retained(32_769) == 8193)
}

/// A StreamingLLM budget of 4,096 tokens on 32k-token sequences: the paged cache admits
/// `⌊blocks / 256⌋` of them instead of `⌊blocks / 2048⌋`, the ratio the arithmetic predicts.
@Test func aStreamingBudgetRaisesTheSequencesThatFitByTheContextRatio() {
    func admitted(_ budget: KVBudget) -> Int {
        var config = KVCacheConfiguration(kind: .paged, bytesPerToken: 1, capacityBytes: 16 * 20_000, blockTokens: 16, watermark: 0,
                                          maxSequenceTokens: 40_000)
        config.budget = budget
        var kv = PagedBlocks(configuration: config)
        var table = RequestTable()
        var n = 0
        while true {
            let slot = table.insert(RequestSpec(id: n, arrival: .zero, promptTokens: 32_768, outputTokens: 16))
            guard kv.admit(slot, resuming: false, table: &table) else { return n }
            n += 1
        }
    }
    let full = admitted(.full), streaming = admitted(.window(sinks: 4, window: 4092))
    #expect(full == 20_000 / 2048)
    #expect(streaming == 20_000 / 256)
    // Growth past the window needs no new block: the oldest tokens give theirs back.
    var config = KVCacheConfiguration(kind: .paged, bytesPerToken: 1, capacityBytes: 16 * 300, blockTokens: 16, watermark: 0, maxSequenceTokens: 40_000)
    config.budget = .window(sinks: 4, window: 4092)
    var kv = PagedBlocks(configuration: config)
    var table = RequestTable()
    let slot = table.insert(RequestSpec(id: 0, arrival: .zero, promptTokens: 32_768, outputTokens: 16))
    #expect(kv.admit(slot, resuming: false, table: &table))
    #expect(kv.grow(slot, toTokens: 32_800, table: &table))
    #expect(kv.usedBlocks == 256)
}

/// A decode step reads what the budget keeps: with a context-priced cost model, a 32k-token
/// sequence's decode steps cost as a 4k one's under a 4k StreamingLLM budget; and the property
/// sweep's bookkeeping holds with budgets too.
@Test func decodeStepsReadOnlyTheKeptContext() throws {
    let perContext = LinearStepCostModel(fixed: .zero, perToken: .zero, perContextToken: Seconds(1e-6))
    var config = configuration(.continuousBatching, kvTokens: 100_000, maxSequence: 40_000)
    let request = [RequestSpec(id: 0, arrival: .zero, promptTokens: 32_768, outputTokens: 4)]
    let (_, full) = try simulate(config, request, cost: perContext)
    config.kvCache.budget = .window(sinks: 4, window: 4092)
    let (_, kept) = try simulate(config, request, cost: perContext)
    // The prefill step is the same; each decode step reads 4,096 positions instead of ~32,770.
    #expect(full.steps.count == 4 && kept.steps.count == 4)
    for (a, b) in zip(full.steps.dropFirst(), kept.steps.dropFirst()) {
        #expect(b.duration.nanoseconds == 4_096_000)
        #expect(a.duration.nanoseconds > 32_768_000)
    }
    for seed in UInt64(3000)..<3200 {
        var (c, requests) = randomScenario(seed: seed)
        if c.kvCache.kind == .prefixCaching { c.kvCache.kind = .paged }
        var rng = TestRNG(state: seed)
        c.kvCache.budget = [KVBudget.window(sinks: 4, window: 60), .heavyHitters(tokens: 100), .compressed(ratio: 3)][rng.int(0...2)]
        let (outcome, run) = try simulate(c, requests)
        #expect(run.completions.count + run.rejections.count == requests.count, "seed \(seed)")
        for r in outcome.replicas { #expect(r.finalPinnedBlocks == 0 && r.kvCache.peakUsedBlocks <= r.kvCache.totalBlocks, "seed \(seed)") }
    }
}
