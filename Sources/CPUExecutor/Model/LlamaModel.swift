import GGUF

/// A Llama-architecture model loaded from GGUF: configuration plus weights repacked for the
/// SIMD kernels (`WeightMatrix`). Norm weights are kept as F32; the token embedding stays in
/// the memory-mapped file and is decoded one row per token.
///
/// Validation happens here, once: every tensor must exist, have the shape the configuration
/// implies, and have a type the kernels support; otherwise `init` throws an `ExecutorError`
/// naming the tensor.
public final class LlamaModel: @unchecked Sendable {
    public struct Layer: Sendable {
        public let attentionNorm: [Float]
        public let query: WeightMatrix
        public let key: WeightMatrix
        public let value: WeightMatrix
        public let output: WeightMatrix
        public let feedForwardNorm: [Float]
        public let gate: WeightMatrix
        public let up: WeightMatrix
        public let down: WeightMatrix
    }

    public let config: LlamaConfig
    public let file: GGUFFile
    public let layers: [Layer]
    public let outputNorm: [Float]
    /// The LM head: `output.weight`, or `token_embd.weight` when the embeddings are tied.
    public let lmHead: WeightMatrix
    public let tokenEmbedding: GGUFTensorInfo

    /// Bytes a decode step streams: every weight matrix once plus the norms (the KV cache comes on top).
    public var weightBytes: Int {
        layers.reduce(lmHead.byteCount + outputNorm.count * 4) { sum, l in
            sum + l.query.byteCount + l.key.byteCount + l.value.byteCount + l.output.byteCount
                + l.gate.byteCount + l.up.byteCount + l.down.byteCount + (l.attentionNorm.count + l.feedForwardNorm.count) * 4
        }
    }

    /// Opens `path` and loads the model.
    /// - Throws: `GGUFError` for unreadable or malformed files, `ExecutorError` for models the executor cannot run.
    public convenience init(path: String) throws {
        try self.init(file: GGUFFile(path: path))
    }

    public init(file: GGUFFile) throws {
        let config = try LlamaConfig(gguf: file)
        self.config = config
        self.file = file
        let d = config.embeddingLength, f = config.feedForwardLength, kv = config.kvDim

        func info(_ name: String) throws -> GGUFTensorInfo {
            guard let t = file.tensor(named: name) else { throw ExecutorError.missingTensor(name: name) }
            return t
        }
        func matrix(_ name: String, columns: Int, rows: Int) throws -> WeightMatrix {
            let t = try info(name)
            guard t.shape == [columns, rows] else {
                throw ExecutorError.badTensorShape(name: name, expected: "[\(columns), \(rows)]", found: t.shape)
            }
            return try WeightMatrix(file: file, info: t)
        }
        func vector(_ name: String, count: Int) throws -> [Float] {
            let t = try info(name)
            guard t.shape == [count] else { throw ExecutorError.badTensorShape(name: name, expected: "[\(count)]", found: t.shape) }
            guard t.type.isDequantizable else { throw ExecutorError.unsupportedTensorType(name: name, type: String(describing: t.type)) }
            return try file.dequantized(t)
        }

        var layers: [Layer] = []
        for i in 0 ..< config.layerCount {
            let p = "blk.\(i)."
            layers.append(Layer(
                attentionNorm: try vector(p + "attn_norm.weight", count: d),
                query: try matrix(p + "attn_q.weight", columns: d, rows: d),
                key: try matrix(p + "attn_k.weight", columns: d, rows: kv),
                value: try matrix(p + "attn_v.weight", columns: d, rows: kv),
                output: try matrix(p + "attn_output.weight", columns: d, rows: d),
                feedForwardNorm: try vector(p + "ffn_norm.weight", count: d),
                gate: try matrix(p + "ffn_gate.weight", columns: d, rows: f),
                up: try matrix(p + "ffn_up.weight", columns: d, rows: f),
                down: try matrix(p + "ffn_down.weight", columns: f, rows: d)))
        }
        self.layers = layers
        outputNorm = try vector("output_norm.weight", count: d)
        let embedding = try info("token_embd.weight")
        guard embedding.shape == [d, config.vocabularySize] else {
            throw ExecutorError.badTensorShape(name: embedding.name, expected: "[\(d), \(config.vocabularySize)]", found: embedding.shape)
        }
        guard embedding.type.isDequantizable else {
            throw ExecutorError.unsupportedTensorType(name: embedding.name, type: String(describing: embedding.type))
        }
        tokenEmbedding = embedding
        if file.tensor(named: "output.weight") != nil {
            lmHead = try matrix("output.weight", columns: d, rows: config.vocabularySize)
        } else {
            lmHead = try WeightMatrix(file: file, info: embedding)
        }
    }

    /// Writes the embedding of `token` (`embeddingLength` floats) to `out`.
    public func embed(_ token: Int32, into out: UnsafeMutablePointer<Float>) {
        let t = tokenEmbedding
        let rowBytes = t.rowByteCount
        file.withData(t) { src in
            let row = UnsafeRawBufferPointer(rebasing: src[Int(token) * rowBytes ..< (Int(token) + 1) * rowBytes])
            // Type and sizes were validated in init, so this cannot throw.
            try? dequantize(t.type, from: row, into: UnsafeMutableBufferPointer(start: out, count: t.rowElements))
        }
    }
}
