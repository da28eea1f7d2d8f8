import Testing
import Foundation
import GGUF
@testable import CPUExecutor

/// SmolLM2-135M-Instruct Q4_1 against llama.cpp's references (data/references/smollm2.json).
/// Skipped when the model file is absent (it is not committed).
struct RealModelTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `models/` of this checkout (`scripts/fetch-model.sh`), or the file named by `INFERSIM_MODEL`.
    static let modelPath: String = {
        let local = root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        return FileManager.default.fileExists(atPath: local) ? local : (ProcessInfo.processInfo.environment["INFERSIM_MODEL"] ?? local)
    }()
    static let available = FileManager.default.fileExists(atPath: modelPath)

    struct Prompt {
        var id: String, text: String, promptIDs: [Int32], greedy: [Int32], margins: [Double]
        var top5: [(Int32, Float)], fp32Top5: [(Int32, Float)]
    }

    static func references() throws -> [Prompt] {
        let data = try Data(contentsOf: root.appendingPathComponent("data/references/smollm2.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (json["prompts"] as! [[String: Any]]).map { p in
            let fp = p["fp32_numpy_check"] as! [String: Any]
            return Prompt(id: p["id"] as! String, text: p["text"] as! String,
                          promptIDs: (p["prompt_token_ids"] as! [Int]).map(Int32.init),
                          greedy: (p["greedy_token_ids"] as! [Int]).map(Int32.init),
                          margins: p["top2_margins"] as! [Double],
                          top5: (p["top5_first_position"] as! [[String: Any]]).map { (Int32($0["id"] as! Int), Float($0["logit"] as! Double)) },
                          fp32Top5: zip(fp["top5_ids"] as! [Int], fp["top5_logits"] as! [Double]).map { (Int32($0), Float($1)) })
        }
    }

    @Test(.enabled(if: available)) func promptIDsFirstLogitsAndGreedyMatchLlamaCpp() throws {
        let file = try GGUFFile(path: Self.modelPath)
        let model = try LlamaModel(file: file)
        let tokenizer = try BPETokenizer(gguf: file)
        let quantized = InferenceSession(model: model, options: .init(contextLength: 128, threads: 2))
        let fp32 = InferenceSession(model: model, options: .float32(threads: 2, contextLength: 64))
        for p in try Self.references() {
            let ids = tokenizer.encode(p.text, parseSpecial: true)
            #expect(ids == p.promptIDs, "\(p.id) prompt ids")
            // First position: within 0.5 of llama.cpp (Q8 activations) and 0.05 of the FP32 reference (FP32 mode).
            quantized.reset(sequence: 0)
            let logits = try quantized.forward(tokens: ids)
            for (id, value) in p.top5 { #expect(abs(logits[Int(id)] - value) < 0.5, "\(p.id) llama.cpp logit of \(id): \(logits[Int(id)]) vs \(value)") }
            fp32.reset(sequence: 0)
            let exact = try fp32.forward(tokens: ids)
            for (id, value) in p.fp32Top5 { #expect(abs(exact[Int(id)] - value) < 0.05, "\(p.id) fp32 logit of \(id)") }
            // Greedy continuation: identical up to the first position whose reference top-2 margin is < 0.5
            // ("once": all positions before its last, whose margin is 0.11).
            let checked = p.id == "once" ? p.greedy.count - 1 : (p.margins.firstIndex { $0 < 0.5 } ?? p.greedy.count) + 1
            var generated: [Int32] = [Sampler.argmax(quantized.logits(row: 0))]
            while generated.count < checked {
                try quantized.decodeBatch(tokens: [generated.last!], sequences: [0])
                generated.append(Sampler.argmax(quantized.logits(row: 0)))
            }
            #expect(generated == Array(p.greedy.prefix(checked)), "\(p.id) greedy ids")
        }
    }
}
