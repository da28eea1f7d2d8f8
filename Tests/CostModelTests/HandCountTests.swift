import CostModel
import HardwareModel
import Testing

/// FLOP, byte and memory counts checked against hand calculations from the published shapes.
@Suite struct HandCountTests {
    @Test func llama2_7bParameterCountIsExact() {
        // 2·32000·4096 embeddings + 32 × (4·4096² attention + 3·4096·11008 FFN + 2·4096 norms) + 4096.
        #expect(Fixtures.llama2_7b.parameterCount == 6_738_415_616)
    }

    @Test func mixtralParameterCounts() {
        let m = Fixtures.mixtral
        // per layer: attention 4096·6144 + 4096² = 41,943,040; router 32,768; 8 experts × 3·4096·14336; norms 8,192.
        let perLayer = 41_943_040.0 + 32_768 + 8 * 176_160_768 + 8_192
        #expect(m.parameterCount == 2 * 131_072_000 + 32 * perLayer + 4_096)
        #expect(m.parameterCount.isClose(to: 46.7e9, relative: 0.01))
        // Active: 2 of 8 experts: ~12.9 B.
        #expect(m.activeParameterCount.isClose(to: 12.9e9, relative: 0.01))
    }

    @Test func deepseekV3ParameterCountsMatchThePaper() {
        // DeepSeek-V3 technical report: 671 B total, 37 B activated per token (main model, without the MTP module).
        #expect(Fixtures.deepseekV3.parameterCount.isClose(to: 671e9, relative: 0.01))
        #expect(Fixtures.deepseekV3.activeParameterCount.isClose(to: 37e9, relative: 0.03))
    }

    @Test func llama3_70bKVBytesPerTokenIs320KiB() {
        let kv = Fixtures.llama3_70b.kvBytesPerToken(.fp16)
        #expect(kv.value == 327_680)  // 2 × 80 × 8 × 128 × 2
        #expect(kv.mebibytes == 0.3125)
        // 32k context, batch 1: 10 GiB.
        #expect((kv * 32_768).gibibytes == 10)
        // batch 64 × 2k context: 40 GiB.
        #expect((kv * Double(64 * 2048)).gibibytes == 40)
        // With MHA (64 KV heads) every figure is 8 times larger.
        #expect(Fixtures.llama3_70b_mha.kvBytesPerToken(.fp16).value == 8 * 327_680)
    }

    @Test func deepseekV3CachesItsLatentOnly() {
        // (kvLoraRank 512 + rope 64) × 61 layers × 2 bytes.
        #expect(Fixtures.deepseekV3.kvBytesPerToken(.bf16).value == 576 * 61 * 2)
    }

    @Test func llama2_7bDecodeStepFLOPsAndBytes() {
        let d = Fixtures.deployment(Fixtures.llama2_7b)
        var step = StepWorkload()
        step.addDecode(contextLength: 1000)
        let ops = Fixtures.operators(d, step)
        func op(_ kind: OperatorKind) -> Operator { ops.first { $0.kind == kind }! }
        #expect(op(.qkvProjection).flops.value == 2 * 4096 * 12_288)
        #expect(op(.qkvProjection).weightBytes.value == 4096 * 12_288 * 2)
        #expect(op(.outputProjection).flops.value == 2 * 4096 * 4096)
        #expect(op(.ffn).flops.value == 2 * 3 * 4096 * 11_008)
        #expect(op(.ffn).weightBytes.value == 3 * 4096 * 11_008 * 2)
        // Attention: 4·d FLOPs per head and key: 4 × 128 × 32 × 1000.
        #expect(op(.attentionDecode).flops.value == 4 * 128 * 32 * 1000)
        // Reads 1000 cached positions and writes 1: 2 × 32 × 128 × 2 bytes each.
        #expect(op(.attentionDecode).kvBytes.value == 1001 * 2 * 32 * 128 * 2)
        #expect(op(.lmHead).flops.value == 2 * 4096 * 32_000)
        // Every weight byte is read once per decode step.
        let weightBytes = ops.reduce(0.0) { $0 + $1.weightBytes.value * Double($1.repeats) }
        let perLayer: Double = 4.0 * 4096 * 4096 + 3.0 * 4096 * 11_008
        let head: Double = 4096.0 * 32_000
        let expected: Double = (32.0 * perLayer + head) * 2
        #expect(weightBytes == expected)
    }

    @Test func prefillAttentionCountsCausalPairs() {
        let d = Fixtures.deployment(Fixtures.llama3_8b)
        var step = StepWorkload()
        step.addPrefillChunk(tokens: 2048, contextBefore: 0)
        let attention = Fixtures.operators(d, step).first { $0.kind == .attentionPrefill }!
        // 2048·2049/2 query-key pairs × 32 heads × 4 × 128.
        let pairs: Double = 2048.0 * 2049 / 2
        let perPair: Double = 32.0 * 4 * 128
        #expect(attention.flops.value == pairs * perPair)
    }

    @Test func mixtralReadsOnlyTheExpertsTheBatchTouches() {
        let d = Fixtures.deployment(Fixtures.mixtral)
        let expertBytes = 3.0 * 4096 * 14_336 * 2
        var one = StepWorkload()
        one.addDecode(contextLength: 10)
        let experts1 = Fixtures.operators(d, one).first { $0.kind == .moeExperts }!
        // One token uses 2 of 8 experts: 8·(1 − (6/8)¹) = 2.
        #expect(experts1.weightBytes.value.isClose(to: 2 * expertBytes))
        #expect(experts1.flops.value == 2 * 2 * 3 * 4096 * 14_336)
        var many = StepWorkload()
        for _ in 0..<256 { many.addDecode(contextLength: 10) }
        let experts256 = Fixtures.operators(d, many).first { $0.kind == .moeExperts }!
        // 256 tokens touch all 8 experts (to within 1e-9).
        #expect(experts256.weightBytes.value.isClose(to: 8 * expertBytes, relative: 1e-9))
    }

    @Test func deepseekV3DecodeAttentionRunsOverTheLatent() {
        let d = Fixtures.deployment(Fixtures.deepseekV3, precision: Precision(weights: .fp8, activations: .bf16, kvCache: .bf16))
        var step = StepWorkload()
        step.addDecode(contextLength: 4096)
        let ops = Fixtures.operators(d, step)
        let attention = ops.first { $0.kind == .attentionDecode }!
        // Per head and position: 2·(512 + 64) for scores + 2·512 for values; 128 heads.
        let perPosition: Double = 128.0 * (2 * 576 + 2 * 512)
        #expect(attention.flops.value == 4096.0 * perPosition)
        #expect(attention.kvBytes.value == 4097.0 * 576 * 2)
        // 58 MoE layers, 3 dense.
        #expect(ops.first { $0.kind == .moeExperts }!.repeats == 58)
        #expect(ops.first { $0.kind == .ffn }!.repeats == 3)
    }

    @Test func tensorParallelismSplitsWeightsAndReplicatesKVHeadsBeyondTheirCount() {
        let tp2 = Fixtures.deployment(Fixtures.llama3_70b, tp: 2)
        let tp1 = Fixtures.deployment(Fixtures.llama3_70b)
        #expect(tp2.weightsPerDevice.value.isClose(to: tp1.weightsPerDevice.value / 2, relative: 1e-3))
        #expect(tp1.weightsPerDevice.value.isClose(to: Fixtures.llama3_70b.parameterCount * 2, relative: 1e-6))
        let tp16 = Fixtures.deployment(Fixtures.llama3_70b, tp: 16)
        #expect(tp16.kvHeadsPerDevice == 1)
    }
}
