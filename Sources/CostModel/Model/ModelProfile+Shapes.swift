import HardwareModel

/// Element counts of a model's weights and KV cache, derived from its shape.
extension ModelProfile {
    /// Query/key/value projection output width of a standard (non-MLA) attention layer.
    public var qkvWidth: Int { (heads + 2 * kvHeads) * headDim }

    /// Weight elements of one layer's attention projections (Q, K, V and output).
    public var attentionWeightElements: Double {
        if let mla {
            let qHead = mla.nopeHeadDim + mla.ropeHeadDim
            let q = mla.qLoraRank > 0
                ? Double(hiddenSize * mla.qLoraRank + mla.qLoraRank + mla.qLoraRank * heads * qHead)
                : Double(hiddenSize * heads * qHead)
            let kvA = Double(hiddenSize * (mla.kvLoraRank + mla.ropeHeadDim) + mla.kvLoraRank)
            let kvB = Double(mla.kvLoraRank * heads * (mla.nopeHeadDim + mla.vHeadDim))
            let o = Double(heads * mla.vHeadDim * hiddenSize)
            return q + kvA + kvB + o
        }
        return Double(hiddenSize * qkvWidth + heads * headDim * hiddenSize)
    }

    /// Weight elements of one dense FFN of hidden size `size`.
    public func ffnWeightElements(size: Int) -> Double {
        Double((ffn == .gated ? 3 : 2) * hiddenSize * size)
    }

    /// Layers whose FFN is a mixture of experts.
    public var moeLayers: Int { moe.map { layers - $0.denseLayers } ?? 0 }
    public var denseFFNLayers: Int { layers - moeLayers }

    /// Weight elements of one MoE layer: router, all routed experts and the shared experts.
    public var moeLayerWeightElements: Double {
        guard let moe else { return 0 }
        return Double(hiddenSize * moe.experts) + Double(moe.experts + moe.sharedExperts) * ffnWeightElements(size: moe.expertFFNSize)
    }

    /// Embedding table elements (and LM head, counted separately unless tied).
    public var embeddingElements: Double { Double(vocabSize * hiddenSize) }

    /// All weight elements: embeddings, every layer (attention, FFN or experts, two norms), final norm, LM head.
    public var parameterCount: Double {
        let norms = Double(2 * hiddenSize)
        let perLayerAttention = attentionWeightElements + norms
        let ffnTotal = Double(denseFFNLayers) * ffnWeightElements(size: ffnSize) + Double(moeLayers) * moeLayerWeightElements
        return embeddingElements * (tiedEmbeddings ? 1 : 2) + Double(layers) * perLayerAttention + ffnTotal + Double(hiddenSize)
    }

    /// Parameters a single token touches: active experts only (for MoE models).
    public var activeParameterCount: Double {
        guard let moe else { return parameterCount }
        let inactive = Double(moeLayers) * Double(moe.experts - moe.activeExperts) * ffnWeightElements(size: moe.expertFFNSize)
        return parameterCount - inactive
    }

    /// Elements cached per token and layer: `2 × kvHeads × headDim` (keys and values), or for MLA
    /// the compressed latent plus the shared RoPE key, `kvLoraRank + ropeHeadDim`.
    public var kvElementsPerTokenPerLayer: Int {
        if let mla { return mla.kvLoraRank + mla.ropeHeadDim }
        return 2 * kvHeads * headDim
    }

    /// KV-cache bytes per token for the whole model: `2 × layers × kvHeads × headDim × bytes`
    /// (MLA: `layers × (kvLoraRank + ropeHeadDim) × bytes`).
    public func kvBytesPerToken(_ dtype: DType) -> Bytes {
        Bytes(Double(layers * kvElementsPerTokenPerLayer) * dtype.bytesPerElement)
    }
}
