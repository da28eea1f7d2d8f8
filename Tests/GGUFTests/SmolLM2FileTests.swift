import Foundation
import GGUF
import Testing

/// Checks against the real SmolLM2-135M-Instruct Q4_1 file and data/references/smollm2.json.
/// Skipped when the model (not committed) is absent.
@Suite(.enabled(if: RepositoryPaths.hasSmolLM2, "models/SmolLM2-135M-Instruct.Q4_1.gguf is absent"))
struct SmolLM2FileTests {
    let file: GGUFFile
    let reference: [String: Any]

    init() throws {
        file = try GGUFFile(path: RepositoryPaths.smolLM2)
        let data = try Data(contentsOf: URL(fileURLWithPath: RepositoryPaths.smolLM2Reference))
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        reference = try #require(json?["model_metadata"] as? [String: Any])
    }

    @Test func headerAndMetadataMatchReference() throws {
        #expect(file.version == 3)
        #expect(file.alignment == 32)
        #expect(file.fileSize == 98_362_432)
        #expect(file.architecture == "llama")
        #expect(file.tensors.count == reference["tensor_count"] as? Int)
        #expect(try file.requiredInt("llama.block_count") == reference["n_layer"] as? Int)
        #expect(try file.requiredInt("llama.embedding_length") == reference["n_embd"] as? Int)
        #expect(try file.requiredInt("llama.attention.head_count") == reference["n_head"] as? Int)
        #expect(try file.requiredInt("llama.attention.head_count_kv") == reference["n_head_kv"] as? Int)
        #expect(try file.requiredInt("llama.feed_forward_length") == reference["n_ff"] as? Int)
        #expect(try file.requiredInt("llama.context_length") == reference["n_ctx_train"] as? Int)
        #expect(try file.requiredInt("llama.rope.dimension_count") == reference["rope_dimension_count"] as? Int)
        #expect(try file.requiredDouble("llama.rope.freq_base") == reference["rope_freq_base"] as? Double)
        #expect(try file.requiredDouble("llama.attention.layer_norm_rms_epsilon") == reference["rms_norm_eps"] as? Double)
        #expect(try file.requiredStringArray("tokenizer.ggml.tokens").count == reference["n_vocab"] as? Int)
        #expect(try file.requiredString("tokenizer.chat_template") == reference["chat_template"] as? String)
        #expect(try file.requiredString("tokenizer.ggml.pre") == "smollm")
    }

    @Test func tensorTypesAndBytesMatchReference() throws {
        let byType = try #require(reference["weight_bytes_by_type"] as? [String: [String: Int]])
        for (typeName, expected) in byType {
            let tensors = file.tensors.filter { $0.type.description == typeName }
            #expect(tensors.count == expected["tensors"], "\(typeName)")
            #expect(tensors.map(\.byteCount).reduce(0, +) == expected["bytes"], "\(typeName)")
            #expect(tensors.map(\.elementCount).reduce(0, +) == expected["elements"], "\(typeName)")
        }
        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embedding.type == .q8_0 && embedding.shape == [576, 49152])
        #expect(file.tensor(named: "blk.29.ffn_down.weight")?.shape == [1536, 576])
        #expect(file.tensor(named: "blk.0.attn_k.weight")?.shape == [576, 192])
        #expect(file.tensor(named: "output.weight") == nil)  // tied embeddings
        let last = file.tensors.map { $0.offset + $0.byteCount }.max()!
        #expect(last <= file.fileSize && file.fileSize - last < file.alignment)
    }

    @Test func dequantizedWeightsHavePlausibleMagnitudes() throws {
        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        let row28 = try file.dequantizedRow(embedding, row: 28)  // ","
        #expect(row28.count == 576)
        #expect(row28.allSatisfy { $0.isFinite })
        let rms = (row28.map { $0 * $0 }.reduce(0, +) / 576).squareRoot()
        #expect(rms > 0.01 && rms < 1, "rms \(rms)")
        #expect(row28 != (try file.dequantizedRow(embedding, row: 29)))
        let norm = try file.dequantized(try #require(file.tensor(named: "blk.0.attn_norm.weight")))
        #expect(norm.allSatisfy { $0.isFinite && abs($0) < 100 })
        let q = try file.dequantized(try #require(file.tensor(named: "blk.0.attn_q.weight")))
        #expect(q.count == 576 * 576)
        let qRMS = (q.map { Double($0 * $0) }.reduce(0, +) / Double(q.count)).squareRoot()
        #expect(qRMS > 0.005 && qRMS < 1, "attn_q rms \(qRMS)")
    }
}
