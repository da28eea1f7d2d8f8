import CostModel
import Foundation
import HardwareModel
import Scenarios
import Testing

private let catalog = ProfileCatalog(root: Examples.repoRoot)

private func speculative(_ hardware: String, _ model: String, draft: String?) throws -> SpeculativeStepCostModel {
    let target = try catalog.deployment(hardware: hardware, model: model)
    let drafter = try SpeculationSetup.drafter(catalog: catalog, target: target, draftModel: draft, draftHardware: nil, label: "test")
    return SpeculativeStepCostModel(target: InferenceCostModel(deployment: target), speculation: SpeculativeDecoding(drafter: drafter, draftTokens: 4))
}

@Test func expectedTokensPerVerificationFollowTheChainFormula() {
    #expect(abs(SpeculativeDecoding.expectedTokens(acceptance: 0.8, draftTokens: 4) - (1 - pow(0.8, 5)) / 0.2) < 1e-12)
    #expect(SpeculativeDecoding.expectedTokens(acceptance: 1, draftTokens: 4) == 5)
    #expect(SpeculativeDecoding.expectedTokens(acceptance: 0, draftTokens: 4) == 1)
}

/// Llama-2-7B with a 68M draft on one A100, a = 0.8, k = 4: 2-3× lower TPOT at batch 1.
@Test func aSmallDraftModelCutsBatchOneTPOTTwoToThreeTimes() throws {
    let m = try speculative("nvidia-a100-sxm-80gb", "llama-2-7b", draft: "llama-68m")
    let (spec, plain) = m.timePerOutputToken(batch: 1, context: 512, acceptance: 0.8)
    let speedup = plain.value / spec.value
    #expect(speedup >= 2 && speedup <= 3, "speed-up \(speedup)")
}

/// At a large batch the verification pass is compute-bound and pays for every rejected draft:
/// the speed-up falls below 1, and a sweep over the batch finds the crossover.
@Test func speculationStopsPayingAtALargeComputeBoundBatch() throws {
    let m = try speculative("nvidia-a100-sxm-80gb", "llama-2-7b", draft: "llama-68m")
    var speedups: [Int: Double] = [:]
    for b in [1, 8, 64, 256, 1024, 2048] {
        let (spec, plain) = m.timePerOutputToken(batch: b, context: 128, acceptance: 0.8)
        speedups[b] = plain.value / spec.value
    }
    #expect(speedups[1]! > 1.5)
    #expect(speedups[2048]! < 1, "\(speedups)")
    // Once the verification pass is compute-bound, the speed-up only falls.
    let ordered = [64, 256, 1024, 2048].map { speedups[$0]! }
    #expect(zip(ordered, ordered.dropFirst()).allSatisfy { $0 >= $1 }, "\(ordered)")
    var step = StepWorkload()
    for _ in 0..<2048 { step.addVerification(tokens: 5, contextBefore: 127) }
    #expect(m.target.cost(of: step).boundBy == .compute)
}

/// A verification of q tokens is one pass over q rows per sequence: its GEMMs see q times the
/// rows of a plain decode, its attention reads each sequence's KV once.
@Test func aVerificationReadsTheKVCacheOnceForAllItsTokens() throws {
    let d = try catalog.deployment(hardware: "nvidia-h100-sxm", model: "llama-3-8b")
    var verify = StepWorkload()
    verify.addVerification(tokens: 5, contextBefore: 1000)
    var plain = StepWorkload()
    plain.addDecode(contextLength: 1001)
    var v: [OperatorKind: Operator] = [:], p: [OperatorKind: Operator] = [:]
    d.forEachOperator(in: verify) { v[$0.kind] = $0 }
    d.forEachOperator(in: plain) { p[$0.kind] = $0 }
    #expect(v[.ffn]!.flops.value == 5 * p[.ffn]!.flops.value)
    #expect(v[.ffn]!.weightBytes == p[.ffn]!.weightBytes)
    let kvPerToken = p[.attentionDecode]!.kvBytes.value / (1001 + 1)
    #expect(abs(v[.attentionDecode]!.kvBytes.value - kvPerToken * (1005 + 5)) < 1e-6)
    // Pairs: 1001 + 1002 + … + 1005.
    #expect(abs(v[.attentionDecode]!.flops.value / p[.attentionDecode]!.flops.value - Double(1001 + 1002 + 1003 + 1004 + 1005) / 1001) < 1e-12)
}
