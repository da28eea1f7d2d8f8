import Foundation
import HardwareModel

extension Deployment {
    /// Calls `body` with every operator one device executes in a forward step of `step`,
    /// each counted once with its `repeats`. The pipeline runs its stages one after the
    /// other for a batch, so the step's operators are those of all layers, priced on one
    /// device's share of the tensor-parallel work.
    ///
    /// Counting conventions (one multiply-accumulate = 2 FLOPs):
    /// - a linear layer with `K × N` weights over `T` tokens: `2·T·K·N` FLOPs, reading the
    ///   weights once plus `T·(K + N)` activations;
    /// - attention without a materialised score matrix (FlashAttention / FlashDecoding):
    ///   `4·d` FLOPs per head and query-key pair (`Q·Kᵀ` and `P·V`), reading each cached key
    ///   and value once per sequence and writing the new ones;
    /// - a mixture of experts reads only the experts the batch touches: with `T` tokens each
    ///   routed to `k` of `E` experts uniformly, `E·(1 − (1 − k/E)^T)` distinct experts.
    ///
    /// - Complexity: O(1) in the batch size: the step is already summarised.
    
    public func forEachOperator(in step: StepWorkload, _ body: (Operator) -> Void) {
        let m = model
        let tp = Double(tensorParallel)
        let act = precision.activations.bytesPerElement
        let wt = precision.weights.bytesPerElement
        let kvb = precision.kvCache.bytesPerElement
        let arith = precision.activations.arithmeticType
        let T = Double(step.totalTokens)
        guard T > 0 else { return }
        let H = Double(m.hiddenSize)
        let L = m.layers
        // Rows that produce logits: every decode token and the last token of each prefill chunk.
        let logitRows = Double(step.decodeTokens + step.prefillSequences)

        body(Operator(name: "token embedding", kind: .embedding,
                      activationBytes: Bytes(T * H * (precision.embeddingType.bytesPerElement + act)),
                      arithmetic: arith, repeats: 1))

        // Norms, residual adds, RoPE, activation function: memory-bound streams over T×H (and T×F).
        body(Operator(name: "rmsnorm (attention)", kind: .norm, flops: FLOPs(4 * T * H),
                      activationBytes: Bytes(2 * T * H * act), rows: T, arithmetic: arith, repeats: L))

        // Attention projections.
        let qkvElements: Double
        let qkvOut: Double
        let headsPerDevice = Double(m.heads) / tp
        if let mla = m.mla {
            let qHead = Double(mla.nopeHeadDim + mla.ropeHeadDim)
            let replicated = Double(m.hiddenSize * (mla.qLoraRank + mla.kvLoraRank + mla.ropeHeadDim))
            let split = Double(mla.qLoraRank > 0 ? mla.qLoraRank : m.hiddenSize) * Double(m.heads) * qHead
                + Double(mla.kvLoraRank * m.heads * (mla.nopeHeadDim + mla.vHeadDim))
            qkvElements = replicated + split / tp
            qkvOut = headsPerDevice * qHead + Double(mla.kvLoraRank + mla.ropeHeadDim)
        } else {
            qkvElements = H * Double(m.heads * m.headDim) / tp + 2 * H * Double(kvHeadsPerDevice * m.headDim)
            qkvOut = Double(m.qkvWidth) / tp
        }
        body(Operator(name: "QKV projection", kind: .qkvProjection, flops: FLOPs(2 * T * qkvElements),
                      weightBytes: Bytes(qkvElements * wt), activationBytes: Bytes(T * (H + qkvOut) * act),
                      rows: T, arithmetic: arith, repeats: L))

        // Attention core. Per head and query-key pair: 2·dQK for the scores and 2·dV for the
        // weighted values. MLA runs "absorbed" over its latent: dQK = kvLoraRank + ropeHeadDim, dV = kvLoraRank.
        let kvPerTokenPerLayer: Double
        let flopsPerPair: Double
        if let mla = m.mla {
            kvPerTokenPerLayer = Double(mla.kvLoraRank + mla.ropeHeadDim) * kvb
            flopsPerPair = headsPerDevice * Double(2 * (mla.kvLoraRank + mla.ropeHeadDim) + 2 * mla.kvLoraRank)
        } else {
            kvPerTokenPerLayer = Double(2 * kvHeadsPerDevice * m.headDim) * kvb
            flopsPerPair = headsPerDevice * Double(4 * m.headDim)
        }
        let qoBytesPerToken = 2 * headsPerDevice * Double(m.headDim) * act
        if step.prefillTokens > 0 {
            let p = Double(step.prefillTokens)
            body(Operator(name: "attention (prefill)", kind: .attentionPrefill,
                          flops: FLOPs(step.prefillAttentionPairs * flopsPerPair),
                          activationBytes: Bytes(p * qoBytesPerToken),
                          kvBytes: Bytes((Double(step.prefillContextTokens) + p) * kvPerTokenPerLayer),
                          rows: p / Double(step.prefillSequences), arithmetic: arith, repeats: L))
        }
        if step.decodeTokens > 0 {
            let d = Double(step.decodeTokens)
            // Queries that share one cached key/value: the GQA group (all heads for MLA).
            let group = m.mla != nil ? headsPerDevice : Double(m.heads / m.kvHeads)
            body(Operator(name: "attention (decode)", kind: .attentionDecode,
                          flops: FLOPs(Double(step.decodeContextTokens) * flopsPerPair),
                          activationBytes: Bytes(d * qoBytesPerToken),
                          kvBytes: Bytes((Double(step.decodeContextTokens) + d) * kvPerTokenPerLayer),
                          rows: group, arithmetic: arith, repeats: L))
        }

        let oElements = Double(m.heads * (m.mla?.vHeadDim ?? m.headDim)) * H / tp
        body(Operator(name: "output projection", kind: .outputProjection, flops: FLOPs(2 * T * oElements),
                      weightBytes: Bytes(oElements * wt), activationBytes: Bytes(T * (oElements / H + H) * act),
                      rows: T, arithmetic: arith, repeats: L))

        let reduceBytes = Bytes(T * H * max(act, 2))
        if tensorParallel > 1 {
            body(Operator(name: "all-reduce (attention)", kind: .allReduce, arithmetic: arith, repeats: L,
                          communicationBytes: reduceBytes))
        }
        body(Operator(name: "rmsnorm (FFN)", kind: .norm, flops: FLOPs(4 * T * H),
                      activationBytes: Bytes(2 * T * H * act), rows: T, arithmetic: arith, repeats: L))

        let matrices = m.ffn == .gated ? 3.0 : 2.0
        if m.denseFFNLayers > 0 {
            let e = m.ffnWeightElements(size: m.ffnSize) / tp
            let f = Double(m.ffnSize) / tp
            body(Operator(name: "FFN", kind: .ffn, flops: FLOPs(2 * T * e), weightBytes: Bytes(e * wt),
                          activationBytes: Bytes(T * (2 * H + matrices * f) * act),
                          rows: T, arithmetic: arith, repeats: m.denseFFNLayers))
            body(Operator(name: "activation + residual", kind: .elementwise, flops: FLOPs(T * (f + 2 * H)),
                          activationBytes: Bytes(T * (3 * f + 4 * H) * act), rows: T, arithmetic: arith,
                          repeats: m.denseFFNLayers))
        }
        if let moe = m.moe, m.moeLayers > 0 {
            let E = Double(moe.experts)
            let k = Double(moe.activeExperts)
            let router = H * E
            body(Operator(name: "MoE router", kind: .moeRouter, flops: FLOPs(2 * T * router),
                          weightBytes: Bytes(router * wt), activationBytes: Bytes(T * (H + E) * act),
                          rows: T, arithmetic: arith, repeats: m.moeLayers))
            let distinct = E * (1 - pow(1 - k / E, T))
            let expert = m.ffnWeightElements(size: moe.expertFFNSize) / tp
            let shared = Double(moe.sharedExperts)
            let f = Double(moe.expertFFNSize) / tp
            body(Operator(name: "MoE experts", kind: .moeExperts, flops: FLOPs(2 * T * (k + shared) * expert),
                          weightBytes: Bytes((distinct + shared) * expert * wt),
                          activationBytes: Bytes(T * (k + shared) * (2 * H + matrices * f) * act),
                          rows: T * (k + shared) / (distinct + shared), arithmetic: arith, repeats: m.moeLayers))
            body(Operator(name: "activation + residual", kind: .elementwise, flops: FLOPs(T * (k + shared) * (f + 2 * H)),
                          activationBytes: Bytes(T * ((k + shared) * 3 * f + 4 * H) * act), rows: T, arithmetic: arith,
                          repeats: m.moeLayers))
        }
        if tensorParallel > 1 {
            body(Operator(name: "all-reduce (FFN)", kind: .allReduce, arithmetic: arith, repeats: L,
                          communicationBytes: reduceBytes))
        }
        if pipelineParallel > 1 {
            body(Operator(name: "pipeline transfer", kind: .pipelineTransfer, arithmetic: arith,
                          repeats: pipelineParallel - 1, communicationBytes: Bytes(T * H * act)))
        }

        body(Operator(name: "final rmsnorm", kind: .norm, flops: FLOPs(4 * logitRows * H),
                      activationBytes: Bytes(2 * logitRows * H * act), rows: logitRows, arithmetic: arith, repeats: 1))
        let head = Double(m.vocabSize) * H / tp
        body(Operator(name: "LM head", kind: .lmHead, flops: FLOPs(2 * logitRows * head),
                      weightBytes: Bytes(head * precision.embeddingType.bytesPerElement),
                      activationBytes: Bytes(logitRows * (H * act + Double(m.vocabSize) / tp * 4)),
                      rows: logitRows, arithmetic: arith, repeats: 1))
    }
}

