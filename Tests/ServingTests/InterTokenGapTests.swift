import CostModel
import DiscreteEvent
import HardwareModel
import ServingMetrics
import Testing
@testable import Serving

/// Inter-token latency is the gap between a request's consecutive tokens, stalls included, and
/// a request's tail time between tokens is the mean of its longest 10% of gaps (Mooncake's TBT).
@Suite struct InterTokenGapTests {
    /// 1 ms a step plus 1 µs a new token: a 2,000-token prompt step takes 3 ms, a decode 1.001 ms.
    let cost = LinearStepCostModel(fixed: Seconds(1e-3), perToken: Seconds(1e-6), perContextToken: .zero)

    /// Request 0 decodes alone; request 1's prompt arrives at 2.5 ms and, batched prompts first
    /// (vLLM v0), runs in a step of its own while request 0 waits. Request 0's next gap is that
    /// prompt step plus its own decode step, not its decode step alone.
    @Test func aDecodeThatSatOutAPromptStepClosesTheWholeGap() throws {
        var config = configuration(.continuousBatching)
        config.tracksTailGaps = true
        config.fastForwardDecodes = false
        let requests = [RequestSpec(id: 0, arrival: .zero, promptTokens: 100, outputTokens: 11),
                        RequestSpec(id: 1, arrival: SimInstant(nanoseconds: 2_500_000), promptTokens: 2000, outputTokens: 2)]
        let (_, run) = try simulate(config, requests, cost: cost)
        let prompt = try #require(run.steps.first { $0.prefillTokens == 2000 })
        #expect(prompt.decodeTokens == 0)
        let after = try #require(run.steps.first { $0.start == prompt.start + prompt.duration })
        #expect(after.stalledDecodes == 1)
        #expect(run.stalledGaps == [prompt.duration + after.duration])
        // Every token after the first is one ITL sample: the steps' unstalled decodes plus the stalled gaps.
        let samples = run.steps.reduce(0) { $0 + $1.decodeTokens - $1.stalledDecodes } + run.stalledGaps.count
        #expect(samples == run.completions.reduce(0) { $0 + $1.outputTokens - 1 })
        // Request 0 has 10 gaps: its tail 10% is the one stalled gap.
        let first = try #require(run.completions.first { $0.id == 0 })
        #expect(first.tailGap == prompt.duration + after.duration)
        // Request 1 has one gap, a plain decode step (batched with request 0's).
        let second = try #require(run.completions.first { $0.id == 1 })
        #expect(second.tailGap == second.completion - second.firstToken)
        #expect(run.steps.contains { $0.start == second.firstToken && $0.start + $0.duration == second.completion })
    }

    /// The tail mean takes the longest ceil((n − 1)/10) gaps: 2 of a 21-token request's 20.
    @Test func theTailMeanAveragesTheLongestTenthOfTheGaps() {
        var table = RequestTable(tracksTailGaps: true)
        let slot = table.insert(RequestSpec(id: 7, arrival: .zero, promptTokens: 1, outputTokens: 21))
        #expect(RequestTable.tailGapCount(outputTokens: 21) == 2 && RequestTable.tailGapCount(outputTokens: 2) == 1)
        var now: Int64 = 0
        _ = table.recordTokens(slot, count: 1, at: SimInstant(nanoseconds: now))
        let gaps: [Int64] = [5, 9, 1, 40, 3, 7, 2, 30, 8, 6, 4, 2, 1, 3, 5, 7, 9, 11, 13, 15]
        for g in gaps {
            now += g
            _ = table.recordTokens(slot, count: 1, at: SimInstant(nanoseconds: now))
        }
        #expect(table.tailGap(slot) == SimDuration(nanoseconds: 35))
        #expect(RequestTable().tailGap(0) == nil)
    }

    /// A decode-only run fast-forwarded records the same gaps as one stepped through.
    @Test func fastForwardedWindowsKeepEveryGap() throws {
        func run(_ fast: Bool) throws -> [RequestTimeline] {
            var config = configuration(.continuousBatching)
            config.tracksTailGaps = true
            config.fastForwardDecodes = fast
            let requests = (0..<6).map { RequestSpec(id: $0, arrival: SimInstant(nanoseconds: Int64($0) * 40_000_000), promptTokens: 300 * ($0 + 1), outputTokens: 50 + 13 * $0) }
            let slope = LinearStepCostModel(fixed: Seconds(1e-3), perToken: Seconds(1e-6), perContextToken: Seconds(1e-8))
            return try simulate(config, requests, cost: slope).1.completions.sorted { $0.id < $1.id }
        }
        let fast = try run(true), steps = try run(false)
        #expect(fast == steps)
        #expect(fast.allSatisfy { $0.tailGap != nil })
    }
}

/// Bucketed timestamps (Mooncake's FAST'25 traces round to 3 s) spread over their bucket.
@Test func spreadTiesSpreadsARunOverTheTimeToTheNextInstant() throws {
    let s = { (t: Int64) in SimInstant(nanoseconds: t * 1_000_000_000) }
    let requests = [0, 0, 0, 3, 3].enumerated().map { RequestSpec(id: $0.offset, arrival: s(Int64($0.element)), promptTokens: 1, outputTokens: 1) }
    var source = SpreadTies(ArrayRequestSource(requests))
    var arrivals: [Int64] = []
    while let r = try source.next() { arrivals.append(r.arrival.nanoseconds) }
    #expect(arrivals == [0, 1_000_000_000, 2_000_000_000, 3_000_000_000, 4_500_000_000])
}
