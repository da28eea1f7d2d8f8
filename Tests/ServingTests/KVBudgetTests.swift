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
    // Conservation with a budget over 1,000 random scenarios (60 requests each).
    for seed in UInt64(3000)..<4000 {
        var (c, requests) = randomScenario(seed: seed)
        requests = Array(requests.prefix(60))
        if c.kvCache.kind == .prefixCaching { c.kvCache.kind = .paged }
        var rng = TestRNG(state: seed)
        c.kvCache.budget = [KVBudget.window(sinks: 4, window: 60), .heavyHitters(tokens: 100), .compressed(ratio: 3)][rng.int(0...2)]
        let (outcome, run) = try simulate(c, requests)
        #expect(run.completions.count + run.rejections.count == requests.count, "seed \(seed)")
        for r in outcome.replicas { #expect(r.finalPinnedBlocks == 0 && r.kvCache.peakUsedBlocks <= r.kvCache.totalBlocks, "seed \(seed)") }
    }
}

/// An offload tier (issue 12): a request whose KV exceeds the device is served instead of
/// rejected, its blocks beyond the device live in the tier, and every step that reads them pays
/// `offloaded tokens × bytes per token / link` on top of its compute.
@Test func anOffloadTierServesWhatTheDeviceCannotHoldAndPricesTheFetch() throws {
    let fixed = LinearStepCostModel(fixed: Seconds(1e-3), perToken: .zero, perContextToken: .zero)
    var config = configuration(.continuousBatching, kvTokens: 1024, maxSequence: 10_000)
    let request = [RequestSpec(id: 0, arrival: .zero, promptTokens: 4000, outputTokens: 3)]
    let (_, without) = try simulate(config, request, cost: fixed)
    #expect(without.rejections.count == 1 && without.completions.isEmpty)
    config.kvCache.offload = .init(capacityBytes: 8000, linkBytesPerSecond: 1e6)
    let (outcome, with) = try simulate(config, request, cost: fixed)
    #expect(with.completions.count == 1)
    #expect(outcome.replicas[0].finalPinnedBlocks == 0)
    // 1,024 device tokens (64 blocks); the rest offloaded. A decode step at 4,000 + g tokens
    // fetches (blocks on the host × 16) tokens at 1 byte each over 1 MB/s.
    let decodeSteps = with.steps.dropFirst()
    #expect(decodeSteps.count == 2)
    for (g, step) in zip([1, 2], decodeSteps) {
        let held = (4000 + g + 15) / 16
        let hostTokens = min((held - 64) * 16, 4000 + g)
        let expected = 1e-3 + Double(hostTokens) / 1e6
        #expect(abs(Double(step.duration.nanoseconds) / 1e9 - expected) < 2e-9, "\(step.duration.nanoseconds) vs \(expected)")
    }
    // Conservation with offload over 1,000 random scenarios (60 requests each).
    for seed in UInt64(6000)..<7000 {
        var (c, requests) = randomScenario(seed: seed)
        requests = Array(requests.prefix(60))
        c.kvCache.kind = .paged
        c.kvCache.offload = .init(capacityBytes: c.kvCache.capacityBytes, linkBytesPerSecond: 1e9)
        let (o, run) = try simulate(c, requests)
        #expect(run.completions.count + run.rejections.count == requests.count, "seed \(seed)")
        for r in o.replicas { #expect(r.finalPinnedBlocks == 0, "seed \(seed)") }
    }
}

/// Parallel sampling and beam search (issue 12): n completions of a request share its prompt's
/// KV and each decode their own token every step, so a step carries n decode tokens per request
/// and the cache holds `prompt + n · generated`; the books balance over random scenarios.
@Test func parallelSamplesShareThePromptAndDecodeTogether() throws {
    let perToken = LinearStepCostModel(fixed: .zero, perToken: Seconds(1e-3), perContextToken: .zero)
    var config = configuration(.continuousBatching, kvTokens: 100_000, maxSequence: 4000)
    config.kvCache.samples = 4
    let request = [RequestSpec(id: 0, arrival: .zero, promptTokens: 1000, outputTokens: 5)]
    let (outcome, run) = try simulate(config, request, cost: perToken)
    #expect(run.completions.count == 1)
    // Prefill of 1,000 tokens, then four decode steps of 4 tokens each.
    #expect(run.steps.map(\.duration.nanoseconds) == [1_000_000_000, 4_000_000, 4_000_000, 4_000_000, 4_000_000])
    #expect(outcome.replicas[0].finalPinnedBlocks == 0)
    // The cache: 1,000 shared prompt tokens plus 4 × 4 own tokens at the last step.
    var kv = PagedBlocks(configuration: config.kvCache)
    var table = RequestTable()
    let slot = table.insert(request[0])
    #expect(kv.admit(slot, resuming: false, table: &table))
    #expect(kv.grow(slot, toTokens: 1000 + 4 * 4, table: &table))
    #expect(kv.usedBlocks == (1016 + 15) / 16)
    // Conservation with n samples over 1,000 random scenarios (60 requests each).
    for seed in UInt64(7000)..<8000 {
        var (c, requests) = randomScenario(seed: seed)
        requests = Array(requests.prefix(60))
        var rng = TestRNG(state: seed)
        c.kvCache.samples = rng.int(1...4)
        let (o, r) = try simulate(c, requests)
        #expect(r.completions.count + r.rejections.count == requests.count, "seed \(seed)")
        for rep in o.replicas { #expect(rep.finalPinnedBlocks == 0 && rep.kvCache.peakUsedBlocks <= rep.kvCache.totalBlocks, "seed \(seed)") }
    }
}
