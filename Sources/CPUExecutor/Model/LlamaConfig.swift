import GGUF

/// The shape of a Llama-architecture decoder, read from GGUF metadata (`llama.*` keys).
public struct LlamaConfig: Sendable, Equatable {
    public var layerCount: Int
    /// Model width `d_model` (`llama.embedding_length`).
    public var embeddingLength: Int
    /// FFN inner width (`llama.feed_forward_length`).
    public var feedForwardLength: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var vocabularySize: Int
    /// Training context (`llama.context_length`); sessions may use less.
    public var contextLength: Int
    /// RoPE base θ (`llama.rope.freq_base`, default 10 000).
    public var ropeFrequencyBase: Double
    /// ε of RMSNorm (`llama.attention.layer_norm_rms_epsilon`).
    public var rmsEpsilon: Float

    public var headDim: Int { embeddingLength / headCount }
    /// Width of K and V: `kvHeadCount · headDim`.
    public var kvDim: Int { kvHeadCount * headDim }

    public init(layerCount: Int, embeddingLength: Int, feedForwardLength: Int, headCount: Int, kvHeadCount: Int,
                vocabularySize: Int, contextLength: Int, ropeFrequencyBase: Double, rmsEpsilon: Float) {
        self.layerCount = layerCount
        self.embeddingLength = embeddingLength
        self.feedForwardLength = feedForwardLength
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.ropeFrequencyBase = ropeFrequencyBase
        self.rmsEpsilon = rmsEpsilon
    }

    /// Reads and validates the configuration.
    /// - Throws: `ExecutorError.unsupportedArchitecture`, `.badMetadata(key:reason:)`, `.missingTensor("token_embd.weight")`.
    public init(gguf file: GGUFFile) throws {
        let arch = file.metadata["general.architecture"]?.string ?? "(missing)"
        guard arch == "llama" else { throw ExecutorError.unsupportedArchitecture(arch) }
        func int(_ key: String) throws -> Int {
            guard let value = file.metadata["llama." + key] else { throw ExecutorError.badMetadata(key: "llama." + key, reason: "missing") }
            guard let v = value.int, v > 0 else { throw ExecutorError.badMetadata(key: "llama." + key, reason: "expected a positive integer") }
            return v
        }
        layerCount = try int("block_count")
        embeddingLength = try int("embedding_length")
        feedForwardLength = try int("feed_forward_length")
        headCount = try int("attention.head_count")
        kvHeadCount = file.metadata["llama.attention.head_count_kv"] == nil ? headCount : try int("attention.head_count_kv")
        contextLength = try int("context_length")
        ropeFrequencyBase = file.metadata["llama.rope.freq_base"]?.double ?? 10_000
        guard let eps = file.metadata["llama.attention.layer_norm_rms_epsilon"]?.double, eps > 0 else {
            throw ExecutorError.badMetadata(key: "llama.attention.layer_norm_rms_epsilon", reason: "missing or not positive")
        }
        rmsEpsilon = Float(eps)
        guard let embedding = file.tensor(named: "token_embd.weight") else { throw ExecutorError.missingTensor(name: "token_embd.weight") }
        vocabularySize = embedding.rowCount
        guard embeddingLength % headCount == 0 else {
            throw ExecutorError.badMetadata(key: "llama.attention.head_count", reason: "\(headCount) does not divide embedding_length \(embeddingLength)")
        }
        guard headCount % kvHeadCount == 0 else {
            throw ExecutorError.badMetadata(key: "llama.attention.head_count_kv", reason: "\(kvHeadCount) does not divide head_count \(headCount)")
        }
        guard headDim % 2 == 0 else {
            throw ExecutorError.badMetadata(key: "llama.embedding_length", reason: "head dimension \(headDim) must be even for RoPE")
        }
        if let ropeDims = file.metadata["llama.rope.dimension_count"]?.int, ropeDims != headDim {
            throw ExecutorError.badMetadata(key: "llama.rope.dimension_count", reason: "partial RoPE (\(ropeDims) of \(headDim)) is not supported")
        }
    }
}
