import CostModel
import DiscreteEvent
import Diagnostics
import Foundation
import HardwareModel
import ServingMetrics
import Testing
@testable import Serving

/// Tree verification (SpecInfer, Medusa): w chains of k drafts, the longest accepted chain kept.
/// The draws' mean tokens per round approach `1 + Σ_{n=1…k} (1 − (1 − a^n)^w)`, a width of 1 draws
/// exactly what a chain draws, and a wider tree never yields fewer tokens for the same keys.
@Test func treeDrawsKeepTheLongestChainAndFollowTheirFormula() {
    for (a, k, w) in [(0.6, 4, 3), (0.8, 3, 2), (0.3, 5, 4)] {
        let tree = SpeculationConfiguration(draftTokens: k, acceptance: .fixed(a), maxBatchSize: 8, seed: 3, treeWidth: w)
        let chain = SpeculationConfiguration(draftTokens: k, acceptance: .fixed(a), maxBatchSize: 8, seed: 3)
        var total = 0
        let n = 100_000
        for i in 0..<n {
            let t = tree.accepted(request: i % 997, generated: i / 997, drafts: k)
            let c = chain.accepted(request: i % 997, generated: i / 997, drafts: k)
            #expect(t >= c)
            total += 1 + t
        }
        let expected = SpeculativeDecoding.expectedTokens(acceptance: a, draftTokens: k, treeWidth: w)
        #expect(abs(Double(total) / Double(n) - expected) < 0.02, "a \(a) k \(k) w \(w): \(Double(total) / Double(n)) vs \(expected)")
        #expect(expected > SpeculativeDecoding.expectedTokens(acceptance: a, draftTokens: k))
    }
    // w = 1 through the tree formula is the chain formula.
    for a in [0.0, 0.5, 0.9] {
        var e = 1.0
        for m in 1...4 { e += pow(a, Double(m)) }
        #expect(abs(SpeculativeDecoding.expectedTokens(acceptance: a, draftTokens: 4) - e) < 1e-12)
    }
}

/// A tree's query tokens attend to the context and their own chain (tree attention): for w
/// chains of k drafts the pairs beyond the context are `1 + w · (k(k+1)/2 + k)`, which for one
/// chain is the causal `q(q+1)/2`. The drafter then proposes w candidates a position.
@Test func treeVerificationPricesItsTokensAndTreeAttention() {
    var chain = StepWorkload(), tree = StepWorkload()
    chain.addVerification(tokens: 5, contextBefore: 100)
    tree.addVerification(tokens: 1 + 3 * 4, contextBefore: 100, width: 3)
    #expect(chain.decodeAttentionPairs == 5 * 100 + 15)
    #expect(tree.decodeAttentionPairs == 13 * 100 + (1 + 3 * (10 + 4)))
    #expect(tree.decodeTokens == 13 && tree.decodeSequences == 1 && tree.draftTokens == 4 && chain.draftTokens == 4)
}

/// A trace's `acceptance` column: parsed exactly in [0, 1] (csv and jsonl), refused outside it with
/// the field named, and used per request: under a scenario rate of 0.5 a request whose row says 1
/// accepts every draft (k + 1 tokens a round) and one whose row says 0 accepts none.
@Test func aTraceAcceptanceColumnSetsEachRequestsRate() throws {
    let csv = try readAll("arrival_s,prompt_tokens,output_tokens,acceptance\n0,100,41,1\n0,100,41,0\n0,100,41,\n0,100,41,0.25\n", .csv)
    #expect(csv.map(\.acceptanceRate) == [1, 0, nil, 0.25])
    let jsonl = try readAll("{\"arrival_s\": 0, \"prompt_tokens\": 3, \"output_tokens\": 2, \"acceptance\": 0.5}\n", .jsonl)
    #expect(jsonl[0].acceptanceRate == 0.5)
    do {
        _ = try readAll("arrival_s,prompt_tokens,output_tokens,acceptance\n0,100,41,1.5\n", .csv)
        Issue.record("a rate above 1 was accepted")
    } catch let e as InputError {
        #expect(e.description.contains("field 'acceptance': expected a rate in [0, 1], found \"1.5\""), "\(e.description)")
    }

    var config = configuration(.continuousBatching, maxBatch: 4)
    config.speculation = SpeculationConfiguration(draftTokens: 4, acceptance: .fixed(0.5), maxBatchSize: 8, seed: 1)
    let perStep = LinearStepCostModel(fixed: Seconds(1e-3), perToken: .zero, perContextToken: .zero)
    let (_, run) = try simulate(config, Array(csv.prefix(2)), cost: perStep)
    let sure = run.completions.first { $0.id == 0 }!, never = run.completions.first { $0.id == 1 }!
    // After the prefill's token, 40 more: 8 rounds of 5 for the first, 40 rounds of 1 for the second.
    #expect((sure.completion - sure.firstToken).nanoseconds == 8 * 1_000_000)
    #expect((never.completion - never.firstToken).nanoseconds == 40 * 1_000_000)
}
