import Diagnostics
import HardwareModel

/// A transformer's architecture as data, from `scenarios/models/ID.json`.
///
/// Shapes only (no weights). Attention kinds: MHA (`kvHeads == heads`), GQA
/// (`1 < kvHeads < heads`), MQA (`kvHeads == 1`) and MLA (DeepSeek's multi-head latent
/// attention, which caches one compressed latent of `kvLoraRank + ropeHeadDim` per token and
/// layer instead of per-head keys and values).
public struct ModelProfile: Codable, Hashable, Sendable {
    public enum AttentionKind: String, Codable, Sendable, CaseIterable { case mha, gqa, mqa, mla }
    public enum FFNKind: String, Codable, Sendable, CaseIterable {
        /// Gated FFN (SwiGLU/GeGLU): gate and up projections, then down: 3 matrices.
        case gated
        /// Plain two-matrix FFN with GELU/ReLU (GPT-3).
        case plain
    }

    public struct MLA: Codable, Hashable, Sendable {
        /// Rank of the compressed query (0: queries are projected directly).
        public var qLoraRank: Int
        /// Rank of the compressed key-value latent (the cached part).
        public var kvLoraRank: Int
        /// Per-head dimension of the decoupled RoPE key (cached once per token, shared by heads).
        public var ropeHeadDim: Int
        /// Per-head query/key dimension without RoPE.
        public var nopeHeadDim: Int
        /// Per-head value dimension.
        public var vHeadDim: Int
    }

    public struct MoE: Codable, Hashable, Sendable {
        /// Routed experts per MoE layer.
        public var experts: Int
        /// Routed experts each token is sent to.
        public var activeExperts: Int
        /// Experts every token always uses.
        public var sharedExperts: Int
        /// Hidden size of one expert's FFN.
        public var expertFFNSize: Int
        /// Leading layers that use the dense FFN (`ffnSize`) instead of experts.
        public var denseLayers: Int
    }

    public var schemaVersion: Int
    public var name: String
    public var displayName: String
    public var layers: Int
    public var hiddenSize: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var attention: AttentionKind
    public var mla: MLA?
    /// Dense FFN hidden size (the experts' size is in `moe`).
    public var ffnSize: Int
    public var ffn: FFNKind
    public var moe: MoE?
    public var vocabSize: Int
    public var tiedEmbeddings: Bool
    public var maxContextTokens: Int
    /// The sliding attention window the model declares (Mistral 7B v0.1: 4,096), if any. Served
    /// with a `slidingWindow` KV budget, a sequence keeps only this many tokens.
    public var slidingWindowTokens: Int?
    /// Published parameter count, for a cross-check of the shape (optional).
    public var parametersPublished: Double?
    public var source: String

    enum CodingKeys: String, CodingKey {
        case schemaVersion, name, displayName, layers, hiddenSize, heads, kvHeads, headDim, attention, mla, ffnSize, ffn,
             moe, vocabSize, tiedEmbeddings, maxContextTokens, slidingWindowTokens, parametersPublished, source
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        name = try c.decode(String.self, forKey: .name)
        displayName = try c.decode(String.self, forKey: .displayName)
        layers = try c.decodeInt(.layers, atLeast: 1, atMost: 10_000)
        hiddenSize = try c.decodeInt(.hiddenSize, atLeast: 1, atMost: 1 << 20)
        heads = try c.decodeInt(.heads, atLeast: 1, atMost: 1 << 16)
        kvHeads = try c.decodeInt(.kvHeads, atLeast: 1, atMost: 1 << 16)
        headDim = try c.decodeInt(.headDim, atLeast: 1, atMost: 1 << 16)
        attention = try c.decode(AttentionKind.self, forKey: .attention)
        mla = try c.decodeIfPresent(MLA.self, forKey: .mla)
        ffnSize = try c.decodeInt(.ffnSize, atLeast: 1, atMost: 1 << 24)
        ffn = try c.decode(FFNKind.self, forKey: .ffn)
        moe = try c.decodeIfPresent(MoE.self, forKey: .moe)
        vocabSize = try c.decodeInt(.vocabSize, atLeast: 1, atMost: 1 << 24)
        tiedEmbeddings = try c.decode(Bool.self, forKey: .tiedEmbeddings)
        maxContextTokens = try c.decodeInt(.maxContextTokens, atLeast: 1, atMost: 1 << 30)
        slidingWindowTokens = try c.decodeIfPresent(Int.self, forKey: .slidingWindowTokens)
        if let w = slidingWindowTokens, !(1...maxContextTokens).contains(w) {
            throw DecodingError.dataCorruptedError(forKey: .slidingWindowTokens, in: c,
                debugDescription: "expected a window in 1...\(maxContextTokens) (maxContextTokens), found \(w)")
        }
        parametersPublished = try c.decodeIfPresent(Double.self, forKey: .parametersPublished)
        source = try c.decode(String.self, forKey: .source)
        func fail(_ key: CodingKeys, _ message: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: message)
        }
        guard heads % kvHeads == 0 else { throw fail(.kvHeads, "expected a divisor of heads (\(heads)), found \(kvHeads)") }
        switch attention {
        case .mha where kvHeads != heads: throw fail(.attention, "mha needs kvHeads == heads, found \(kvHeads) and \(heads)")
        case .mqa where kvHeads != 1: throw fail(.attention, "mqa needs kvHeads == 1, found \(kvHeads)")
        case .gqa where !(kvHeads > 1 && kvHeads < heads): throw fail(.attention, "gqa needs 1 < kvHeads < heads, found \(kvHeads) of \(heads)")
        case .mla where mla == nil: throw fail(.mla, "attention \"mla\" needs an \"mla\" object")
        default: break
        }
        if attention != .mla && mla != nil { throw fail(.mla, "\"mla\" given but attention is \(attention.rawValue)") }
        if let moe {
            guard moe.activeExperts >= 1, moe.activeExperts <= moe.experts, moe.sharedExperts >= 0,
                  moe.denseLayers >= 0, moe.denseLayers <= layers, moe.expertFFNSize >= 1 else {
                throw fail(.moe, "expected 1 <= activeExperts <= experts, sharedExperts >= 0, 0 <= denseLayers <= layers")
            }
        }
    }
}
