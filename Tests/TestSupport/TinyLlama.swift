import GGUF

/// Shape and encoding of a generated tiny llama model.
public struct TinyLlamaConfig: Sendable, Equatable {
    public var blockCount: Int
    public var embeddingLength: Int
    public var headCount: Int
    public var headCountKV: Int
    public var feedForwardLength: Int
    public var contextLength: Int
    public var ropeFreqBase: Float
    public var rmsNormEpsilon: Float
    /// Encoding of the attention and FFN matrices (and `output.weight` when untied).
    public var weightType: GGMLType
    /// Encoding of `token_embd.weight` (SmolLM2 uses Q8_0).
    public var embeddingType: GGMLType
    /// Whether the LM head reuses `token_embd.weight` (no `output.weight`), as in SmolLM2.
    public var tiedEmbeddings: Bool

    public init(blockCount: Int = 2, embeddingLength: Int = 64, headCount: Int = 4, headCountKV: Int = 2,
                feedForwardLength: Int = 128, contextLength: Int = 128, ropeFreqBase: Float = 10_000,
                rmsNormEpsilon: Float = 1e-5, weightType: GGMLType = .f32, embeddingType: GGMLType = .f32,
                tiedEmbeddings: Bool = true) {
        self.blockCount = blockCount
        self.embeddingLength = embeddingLength
        self.headCount = headCount
        self.headCountKV = headCountKV
        self.feedForwardLength = feedForwardLength
        self.contextLength = contextLength
        self.ropeFreqBase = ropeFreqBase
        self.rmsNormEpsilon = rmsNormEpsilon
        self.weightType = weightType
        self.embeddingType = embeddingType
        self.tiedEmbeddings = tiedEmbeddings
    }

    public var headDimension: Int { embeddingLength / headCount }
    public var kvDimension: Int { headDimension * headCountKV }
}

/// Random-weight llama-architecture GGUF files with SmolLM2's metadata keys and tensor names,
/// plus a tiny byte-level BPE vocabulary, for executor and tokenizer tests without downloads.
///
/// Vocabulary (`TinyLlama.tokens`): ids 0-2 are the control tokens `<|endoftext|>`, `<|im_start|>`,
/// `<|im_end|>` (as in SmolLM2: bos = 1, eos = 2, unk = 0, pad = 2); ids 3-258 are the 256 single
/// bytes in GPT-2's byte-level alphabet; then one token per entry of `TinyLlama.merges`.
/// Weights are uniform in `±1/√fan_in` (embeddings ±1, norms 1 ± 0.1), drawn from `SplitMix64(seed)`
/// in tensor order, so the same seed and config give byte-identical files.
public enum TinyLlama {
    /// The merges, in rank order, in the byte-level alphabet ("Ġ" is a space).
    public static let merges: [String] = [
        "Ġ t", "h e", "Ġ a", "i n", "Ġt he", "e r", "o n", "r e", "Ġ s", "a t",
        "e n", "o r", "Ġ o", "Ġ w", "i s", "Ġ c", "e s", "a n", "Ġ i", "l l",
        "Ġ 1", "Ġ b", "Ġ f", "a r", "o u", "e d", "Ġ m", "Ġ p", "i t", "Ġt o",
        "Ġ h", "in g", "Ġa n", "Ġan d", "Ġo f", "Ġ is", "Ċ Ċ", "Ġ Ġ", "Ġ d", "l e",
    ]

    public static let controlTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

    /// SmolLM2's chat template (ChatML with a default system prompt).
    public static let chatTemplate = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

    /// All token texts, by id.
    public static let tokens: [String] = {
        var t = controlTokens
        for b in 0 ..< 256 { t.append(String(byteScalar(UInt8(b)))) }
        for m in merges { t.append(m.filter { $0 != " " }) }
        return t
    }()

    /// GPT-2's byte → printable-character map (same as the tokenizer's).
    public static func byteScalar(_ b: UInt8) -> Unicode.Scalar {
        let v = Int(b)
        if (33 ... 126).contains(v) || (161 ... 172).contains(v) || (174 ... 255).contains(v) {
            return Unicode.Scalar(UInt32(v))!
        }
        var n: UInt32 = 256
        for c in 0 ..< v where !((33 ... 126).contains(c) || (161 ... 172).contains(c) || (174 ... 255).contains(c)) { n += 1 }
        return Unicode.Scalar(n)!
    }

    /// Adds the tokenizer metadata (`tokenizer.ggml.*`, `tokenizer.chat_template`) to `writer`.
    public static func addTokenizer(to writer: inout TinyGGUFWriter, pre: String = "smollm") {
        writer.add("tokenizer.ggml.model", .string("gpt2"))
        writer.add("tokenizer.ggml.pre", .string(pre))
        writer.add("tokenizer.ggml.tokens", .array(tokens.map { .string($0) }))
        writer.add("tokenizer.ggml.token_type", .array(tokens.indices.map { .int32($0 < controlTokens.count ? 3 : 1) }))
        writer.add("tokenizer.ggml.merges", .array(merges.map { .string($0) }))
        writer.add("tokenizer.ggml.bos_token_id", .uint32(1))
        writer.add("tokenizer.ggml.eos_token_id", .uint32(2))
        writer.add("tokenizer.ggml.unknown_token_id", .uint32(0))
        writer.add("tokenizer.ggml.padding_token_id", .uint32(2))
        writer.add("tokenizer.ggml.add_bos_token", .bool(false))
        writer.add("tokenizer.chat_template", .string(chatTemplate))
    }

    /// The tiny model as GGUF v3 bytes.
    public static func make(seed: UInt64, config: TinyLlamaConfig = TinyLlamaConfig()) -> [UInt8] {
        writer(seed: seed, config: config).bytes()
    }

    /// The tiny model as a writer (to add or change entries before writing).
    public static func writer(seed: UInt64, config c: TinyLlamaConfig = TinyLlamaConfig()) -> TinyGGUFWriter {
        precondition(c.embeddingLength % c.headCount == 0 && c.headCount % c.headCountKV == 0, "inconsistent head counts")
        var rng = SplitMix64(seed: seed)
        var w = TinyGGUFWriter()
        w.add("general.architecture", .string("llama"))
        w.add("general.type", .string("model"))
        w.add("general.name", .string("TinyLlama test model (seed \(seed))"))
        w.add("llama.block_count", .uint32(UInt32(c.blockCount)))
        w.add("llama.context_length", .uint32(UInt32(c.contextLength)))
        w.add("llama.embedding_length", .uint32(UInt32(c.embeddingLength)))
        w.add("llama.feed_forward_length", .uint32(UInt32(c.feedForwardLength)))
        w.add("llama.attention.head_count", .uint32(UInt32(c.headCount)))
        w.add("llama.attention.head_count_kv", .uint32(UInt32(c.headCountKV)))
        w.add("llama.rope.freq_base", .float32(c.ropeFreqBase))
        w.add("llama.attention.layer_norm_rms_epsilon", .float32(c.rmsNormEpsilon))
        w.add("general.file_type", .uint32(fileType(c.weightType)))
        w.add("llama.vocab_size", .uint32(UInt32(tokens.count)))
        w.add("llama.rope.dimension_count", .uint32(UInt32(c.headDimension)))
        addTokenizer(to: &w)

        let dim = c.embeddingLength, ff = c.feedForwardLength, kv = c.kvDimension
        func matrix(_ name: String, _ cols: Int, _ rows: Int, _ type: GGMLType, bound: Float? = nil) {
            let values = rng.floats(count: cols * rows, bound: bound ?? 1 / Float(cols).squareRoot())
            w.addTensor(name: name, shape: [cols, rows], type: type, values: values)
        }
        func norm(_ name: String) {
            w.addTensor(name: name, shape: [dim], type: .f32, values: (0 ..< dim).map { _ in 1 + rng.nextSymmetricFloat(bound: 0.1) })
        }
        matrix("token_embd.weight", dim, tokens.count, c.embeddingType, bound: 1)
        for i in 0 ..< c.blockCount {
            norm("blk.\(i).attn_norm.weight")
            matrix("blk.\(i).attn_q.weight", dim, dim, c.weightType)
            matrix("blk.\(i).attn_k.weight", dim, kv, c.weightType)
            matrix("blk.\(i).attn_v.weight", dim, kv, c.weightType)
            matrix("blk.\(i).attn_output.weight", dim, dim, c.weightType)
            norm("blk.\(i).ffn_norm.weight")
            matrix("blk.\(i).ffn_gate.weight", dim, ff, c.weightType)
            matrix("blk.\(i).ffn_up.weight", dim, ff, c.weightType)
            matrix("blk.\(i).ffn_down.weight", ff, dim, c.weightType)
        }
        norm("output_norm.weight")
        if !c.tiedEmbeddings { matrix("output.weight", dim, tokens.count, c.weightType) }
        return w
    }

    /// llama.cpp's `general.file_type` (`llama_ftype`) for a model whose matrices are `type`.
    static func fileType(_ type: GGMLType) -> UInt32 {
        switch type {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        case .bf16: return 32
        default: return 0
        }
    }
}
