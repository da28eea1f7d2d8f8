import HardwareModel

/// How one device of a deployment spends its memory: weights, activation workspace, KV cache.
///
/// `usable = capacity × memoryUtilization`; `kvCapacity = usable − weights − activations`.
/// A configuration whose weights and workspace exceed `usable` does not fit, and
/// `shortfall` says by how much.
public struct MemoryPlan: Hashable, Sendable {
    public var capacityPerDevice: Bytes
    public var usablePerDevice: Bytes
    public var weightsPerDevice: Bytes
    public var activationsPerDevice: Bytes
    /// Whole-model KV bytes per token: `2 × layers × kvHeads × headDim × bytes` (MLA: its latent).
    public var kvBytesPerToken: Bytes
    /// KV bytes per token stored on the most loaded device.
    public var kvBytesPerTokenPerDevice: Bytes
    /// Memory left for the KV cache on each device (negative when the model does not fit).
    public var kvCapacityPerDevice: Bytes

    /// Tokens of KV cache the replica can hold.
    public var kvTokenCapacity: Int {
        kvCapacityPerDevice.value <= 0 ? 0 : Int((kvCapacityPerDevice.value / kvBytesPerTokenPerDevice.value).rounded(.down))
    }

    public var weightsFit: Bool { weightsPerDevice.value + activationsPerDevice.value <= usablePerDevice.value }

    /// Bytes per device missing for weights and workspace (zero when they fit).
    public var shortfall: Bytes {
        Bytes(max(0, weightsPerDevice.value + activationsPerDevice.value - usablePerDevice.value))
    }

    /// Whether `tokens` of KV cache fit beside the weights.
    public func fits(kvTokens tokens: Int) -> Bool {
        weightsFit && Double(tokens) * kvBytesPerTokenPerDevice.value <= kvCapacityPerDevice.value
    }

    /// Bytes per device missing for `tokens` of KV cache.
    public func shortfall(kvTokens tokens: Int) -> Bytes {
        Bytes(max(0, weightsPerDevice.value + activationsPerDevice.value + Double(tokens) * kvBytesPerTokenPerDevice.value
                  - usablePerDevice.value))
    }
}

extension Deployment {
    /// Weight bytes on the most loaded device: the layers of the largest pipeline stage split
    /// across tensor-parallel ranks (K/V projections replicated when ranks outnumber KV heads,
    /// MLA's down-projections replicated), plus the vocabulary-parallel embedding on the first
    /// stage and LM head on the last. Under data-parallel attention every device holds the
    /// attention, dense layers, shared experts and tables whole, and `1/tp` of the routed experts.
    public var weightsPerDevice: Bytes {
        Self.weightBytes(model: model, precision: precision, tensorParallel: tensorParallel, pipelineParallel: pipelineParallel,
                         dataParallelAttention: dataParallelAttention)
    }

    /// `weightsPerDevice` of `model` in `precision` over `tensorParallel × pipelineParallel` devices.
    static func weightBytes(model m: ModelProfile, precision: Precision, tensorParallel: Int, pipelineParallel: Int,
                            dataParallelAttention: Bool = false) -> Bytes {
        let experts = Double(tensorParallel)
        let tp = dataParallelAttention ? 1 : Double(tensorParallel)
        let kvHeadsPerDevice = dataParallelAttention ? m.kvHeads : max(1, m.kvHeads / tensorParallel)
        let layersPerStage = (m.layers + pipelineParallel - 1) / pipelineParallel
        let H = Double(m.hiddenSize)
        var attention: Double
        if let mla = m.mla {
            let qHead = Double(mla.nopeHeadDim + mla.ropeHeadDim)
            let replicated = H * Double(mla.qLoraRank + mla.kvLoraRank + mla.ropeHeadDim)
            let split = Double(mla.qLoraRank > 0 ? mla.qLoraRank : m.hiddenSize) * Double(m.heads) * qHead
                + Double(mla.kvLoraRank * m.heads * (mla.nopeHeadDim + mla.vHeadDim))
                + Double(m.heads * mla.vHeadDim) * H
            attention = replicated + split / tp
        } else {
            attention = 2 * H * Double(m.heads * m.headDim) / tp + 2 * H * Double(kvHeadsPerDevice * m.headDim)
        }
        attention += 2 * H  // two norms
        let stageLayers = Double(layersPerStage)
        let moeShare = Double(m.moeLayers) / Double(m.layers)
        let dense = m.ffnWeightElements(size: m.ffnSize) / tp
        let moe = m.moe.map {
            H * Double($0.experts) + (Double($0.experts) / experts + Double($0.sharedExperts) / tp) * m.ffnWeightElements(size: $0.expertFFNSize)
        } ?? 0
        let perLayer = attention + (1 - moeShare) * dense + moeShare * moe
        let layerBytes = stageLayers * perLayer * precision.weights.bytesPerElement
        let table = m.embeddingElements / tp * precision.embeddingType.bytesPerElement
        let tables: Double
        if pipelineParallel == 1 { tables = m.tiedEmbeddings ? table : 2 * table } else { tables = table }
        return Bytes(layerBytes + tables)
    }

    /// Peak activation workspace on one device for a step of `tokens` tokens of which
    /// `logitRows` produce logits: the residual stream and its copies (4·H), the QKV output, the
    /// FFN intermediates (gate and up), and FP32 logits.
    public func activationBytes(tokens: Int, logitRows: Int) -> Bytes {
        let dp = attentionDataParallel
        return Self.activationBytes(model: model, precision: precision, tensorParallel: attentionTensorParallel,
                                    tokens: (tokens + dp - 1) / dp, logitRows: (logitRows + dp - 1) / dp)
    }

    static func activationBytes(model m: ModelProfile, precision: Precision, tensorParallel: Int, tokens: Int, logitRows: Int) -> Bytes {
        let tp = Double(tensorParallel)
        let act = precision.activations.bytesPerElement
        let ffnWidth = Double(m.moe.map { max($0.expertFFNSize * ($0.activeExperts + $0.sharedExperts), m.ffnSize) } ?? m.ffnSize)
        let perToken = (4 * Double(m.hiddenSize) + Double(m.qkvWidth) / tp + 2 * ffnWidth / tp) * act
        return Bytes(Double(tokens) * perToken + Double(logitRows) * Double(m.vocabSize) / tp * 4)
    }

    /// The memory plan for steps of at most `maxStepTokens` tokens and `maxLogitRows` logit rows.
    public func memoryPlan(maxStepTokens: Int, maxLogitRows: Int) -> MemoryPlan {
        var capacity = device.mainMemory.capacity
        if let layout { capacity = capacity * Double(layout.units) }
        if executionModel == .fpgaDataflow { capacity = Bytes(device.memoryTiers.reduce(0) { $0 + $1.capacityBytes }) }
        var kvCeiling = Double.infinity
        if let pim = device.pim, executionModel == .pimHybrid {
            if pim.extendsCapacity { capacity = capacity + Bytes(pim.capacityBytes) }
            // What runs in memory keeps its operands there: the KV cache (and for a whole decode
            // in memory, the weights) must fit the memory that computes.
            switch pimPlacement {
            case .none: break
            case .attentionInMemory: kvCeiling = pim.capacityBytes * memoryUtilization
            case .decodeInMemory, .prefillOnHost:
                if !pim.extendsCapacity { capacity = Bytes(min(capacity.value, pim.capacityBytes)) }
            }
        }
        let usable = capacity * memoryUtilization
        let weights = weightsPerDevice
        // An SRAM machine streams a step through its layers in chunks of the workspace it reserved.
        let activations = layout.map { Bytes($0.workspaceBytes) } ?? activationBytes(tokens: maxStepTokens, logitRows: maxLogitRows)
        let kvPerToken = model.kvBytesPerToken(precision.kvCache)
        var kvPerDevice: Bytes
        if model.mla != nil {
            kvPerDevice = Bytes(Double(layersPerStage * model.kvElementsPerTokenPerLayer) * precision.kvCache.bytesPerElement)
        } else {
            kvPerDevice = Bytes(Double(layersPerStage * 2 * kvHeadsPerDevice * model.headDim) * precision.kvCache.bytesPerElement)
        }
        // Data-parallel attention: each device holds its own sequences' KV, all heads of it; a
        // token's KV is on one device, so the replica's tokens average `1/dp` of it per device.
        if dataParallelAttention { kvPerDevice = kvPerDevice / Double(attentionDataParallel) }
        return MemoryPlan(capacityPerDevice: capacity, usablePerDevice: usable, weightsPerDevice: weights,
                          activationsPerDevice: activations, kvBytesPerToken: kvPerToken,
                          kvBytesPerTokenPerDevice: kvPerDevice,
                          kvCapacityPerDevice: Bytes(min(usable.value - weights.value - activations.value, kvCeiling)))
    }
}
