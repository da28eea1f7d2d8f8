import Diagnostics
import Foundation
import Testing
import HardwareModel
import CostModel

/// Decodes every `scenarios/models/*.json` strictly and checks each shape against its published
/// parameter count, counted here from first principles:
///
///     total = V·H (embeddings) + L · (attention + FFN-or-MoE + 2·H norms) + H (final norm)
///             + V·H (LM head, unless tied)
///
/// attention (MHA/GQA/MQA) = H·(heads·d) + 2·H·(kvHeads·d) + (heads·d)·H
/// attention (MLA, DeepSeek-V2/V3) = H·q_r + q_r + q_r·heads·(nope+rope)      (query, low-rank)
///                                  + H·(kv_r + rope) + kv_r + kv_r·heads·(nope+v)  (latent K/V)
///                                  + heads·v·H                                    (output)
/// FFN gated = 3·H·F, plain = 2·H·F; MoE layer = (experts + shared)·3·H·F_e + experts·H (router)
///
/// Biases, learned position embeddings and DeepSeek's multi-token-prediction module are not in
/// the schema and are left out (each is well under 1% of the total).
@Suite struct ModelFilesTests {
    static let modelsRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // CostModelTests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // repo root
        .appendingPathComponent("scenarios/models")

    static let requiredModels = [
        "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3.1-8b", "llama-3.1-405b",
        "mistral-7b", "mixtral-8x7b", "deepseek-v3", "smollm2-135m", "gpt-3-175b", "codellama-7b",
    ]

    static func models() throws -> [String: ModelProfile] {
        let names = try FileManager.default.contentsOfDirectory(atPath: modelsRoot.path).filter { $0.hasSuffix(".json") }
        var out: [String: ModelProfile] = [:]
        for name in names.sorted() {
            out[String(name.dropLast(".json".count))] =
                try StrictJSON.decode(ModelProfile.self, contentsOf: modelsRoot.appendingPathComponent(name).path)
        }
        return out
    }

    /// Attention weights of one layer.
    static func attentionParameters(_ m: ModelProfile) -> Double {
        let h = Double(m.hiddenSize), heads = Double(m.heads)
        if let mla = m.mla {
            let qr = Double(mla.qLoraRank), kvr = Double(mla.kvLoraRank), rope = Double(mla.ropeHeadDim)
            let nope = Double(mla.nopeHeadDim), v = Double(mla.vHeadDim)
            let query = qr > 0 ? h * qr + qr + qr * heads * (nope + rope) : h * heads * (nope + rope)
            let latent = h * (kvr + rope) + kvr + kvr * heads * (nope + v)
            return query + latent + heads * v * h
        }
        let d = Double(m.headDim), kv = Double(m.kvHeads)
        return h * heads * d + 2 * h * kv * d + heads * d * h
    }

    /// Total and per-token-active parameter counts.
    static func parameterCounts(_ m: ModelProfile) -> (total: Double, active: Double) {
        let h = Double(m.hiddenSize), v = Double(m.vocabSize), layers = Double(m.layers)
        let matrices = m.ffn == .gated ? 3.0 : 2.0
        let denseFFN = matrices * h * Double(m.ffnSize)
        var ffnTotal = layers * denseFFN, ffnActive = ffnTotal
        if let moe = m.moe {
            let expert = matrices * h * Double(moe.expertFFNSize)
            let router = Double(moe.experts) * h
            let moeLayers = layers - Double(moe.denseLayers)
            let dense = Double(moe.denseLayers) * denseFFN
            ffnTotal = dense + moeLayers * (Double(moe.experts + moe.sharedExperts) * expert + router)
            ffnActive = dense + moeLayers * (Double(moe.activeExperts + moe.sharedExperts) * expert + router)
        }
        let shared = v * h + layers * (attentionParameters(m) + 2 * h) + h + (m.tiedEmbeddings ? 0 : v * h)
        return (shared + ffnTotal, shared + ffnActive)
    }

    @Test func everyModelDecodesAndIsNamedAfterItsFile() throws {
        let models = try Self.models()
        for id in Self.requiredModels { #expect(models[id] != nil, "missing scenarios/models/\(id).json") }
        for (id, model) in models {
            #expect(model.name == id, "\(id).json: name is \(model.name)")
            #expect(model.source.hasPrefix("http") || model.source.contains("arXiv"), "\(id).json: source is not a URL or paper")
            #expect(model.hiddenSize % model.heads == 0 || model.attention == .mla, "\(id).json: hidden size not divisible by heads")
        }
    }

    /// Each file's shape reproduces its own published parameter count within 2%.
    @Test func shapesMatchTheirPublishedParameterCounts() throws {
        for (id, model) in try Self.models() {
            guard let published = model.parametersPublished else { Issue.record("\(id).json has no parametersPublished"); continue }
            let counted = Self.parameterCounts(model).total
            #expect(abs(counted / published - 1) < 0.02, "\(id): counted \(counted), published \(published)")
        }
    }

    /// The counts the project relies on, independent of what the files claim.
    @Test func headlineParameterCounts() throws {
        let models = try Self.models()
        let expected: [(String, Double)] = [
            ("llama-2-7b", 6.74e9), ("llama-3-8b", 8.03e9), ("llama-3-70b", 70.6e9), ("mixtral-8x7b", 46.7e9),
            ("deepseek-v3", 671e9), ("smollm2-135m", 134.5e6), ("gpt-3-175b", 175e9), ("llama-3.1-405b", 405e9),
        ]
        for (id, count) in expected {
            let model = try #require(models[id], "missing \(id)")
            let counted = Self.parameterCounts(model).total
            #expect(abs(counted / count - 1) < 0.02, "\(id): counted \(counted), expected \(count)")
        }
    }

    /// Mixture-of-experts models also match their published active parameters per token
    /// (Mixtral paper: 12.9B; DeepSeek-V3 report: 37B).
    @Test func moeActiveParameterCounts() throws {
        let models = try Self.models()
        for (id, active) in [("mixtral-8x7b", 12.9e9), ("deepseek-v3", 37e9)] {
            let model = try #require(models[id])
            let counted = Self.parameterCounts(model).active
            #expect(abs(counted / active - 1) < 0.03, "\(id): counted \(counted) active, published \(active)")
        }
    }

    /// KV-cache bytes per token at 16 bits: SmolLM2's matches the llama.cpp measurement in
    /// data/references/smollm2.json (23,040 B per position), Llama-2-7B's the well-known
    /// 0.5 MiB, and DeepSeek-V3's MLA latent (kv_lora_rank + rope dim) x layers.
    @Test func kvCacheBytesPerToken() throws {
        let models = try Self.models()
        func kvBytes(_ m: ModelProfile) -> Int {
            if let mla = m.mla { return (mla.kvLoraRank + mla.ropeHeadDim) * m.layers * 2 }
            return 2 * m.layers * m.kvHeads * m.headDim * 2
        }
        #expect(kvBytes(try #require(models["smollm2-135m"])) == 23_040)
        #expect(kvBytes(try #require(models["llama-2-7b"])) == 524_288)
        #expect(kvBytes(try #require(models["deepseek-v3"])) == 70_272)
        #expect(kvBytes(try #require(models["llama-3-70b"])) == 327_680)
    }

    /// Code Llama is Llama 2 7B with a 16-token-larger vocabulary and a longer context.
    @Test func codeLlamaIsLlama2WithALargerVocabulary() throws {
        let models = try Self.models()
        let code = try #require(models["codellama-7b"]), base = try #require(models["llama-2-7b"])
        #expect(code.vocabSize == base.vocabSize + 16)
        #expect(code.maxContextTokens == 16_384)
        #expect(code.layers == base.layers && code.hiddenSize == base.hiddenSize && code.ffnSize == base.ffnSize)
    }
}
