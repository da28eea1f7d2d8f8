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
    /// `part` limits the call to the operators that depend on the cached context (attention) or
    /// to those that do not (everything else, which depends only on token counts).
    ///
    /// - Complexity: O(1) in the batch size: the step is already summarised.
    public func forEachOperator(in step: StepWorkload, _ part: OperatorPart = .all, _ body: (Operator) -> Void) {
        let independent = part != .contextDependent
        let dependent = part != .contextIndependent
        // Under data-parallel attention a device runs everything but the routed experts on its
        // own share of the batch, unsplit; the experts see every device's tokens.
        let dp = attentionDataParallel
        let globalTokens = Double(step.totalTokens)
        let step = dp > 1 ? step.microBatch(dp) : step
        let tp = Double(attentionTensorParallel)
        let act = precision.activations.bytesPerElement
        let wt = precision.weights.bytesPerElement
        let arith = precision.activations.arithmeticType
        let gemmArith = precision.gemmArithmetic(weightFormat: precision.weights)
        let headArith = precision.gemmArithmetic(weightFormat: precision.embeddingType)
        let T = Double(step.totalTokens)
        guard T > 0 else { return }
        let H = Double(model.hiddenSize)
        let L = model.layers
        // Rows that produce logits: every decode token and the last token of each prefill chunk.
        let logitRows = Double(step.decodeTokens + step.prefillSequences)

        if independent { body(Operator(name: "token embedding", kind: .embedding,
                      activationBytes: Bytes(T * H * (precision.embeddingType.bytesPerElement + act)),
                      arithmetic: arith, repeats: 1)) }

        // Norms, residual adds, RoPE, activation function: memory-bound streams over T×H (and T×F).
        if independent { body(Operator(name: "rmsnorm (attention)", kind: .norm, flops: FLOPs(4 * T * H),
                      activationBytes: Bytes(2 * T * H * act), rows: T, arithmetic: arith, repeats: L)) }

        // Attention projections.
        let qkvElements: Double
        let qkvOut: Double
        let headsPerDevice = Double(model.heads) / tp
        if let mla = model.mla {
            let qHead = Double(mla.nopeHeadDim + mla.ropeHeadDim)
            let replicated = Double(model.hiddenSize * (mla.qLoraRank + mla.kvLoraRank + mla.ropeHeadDim))
            let split = Double(mla.qLoraRank > 0 ? mla.qLoraRank : model.hiddenSize) * Double(model.heads) * qHead
                + Double(mla.kvLoraRank * model.heads * (mla.nopeHeadDim + mla.vHeadDim))
            qkvElements = replicated + split / tp
            qkvOut = headsPerDevice * qHead + Double(mla.kvLoraRank + mla.ropeHeadDim)
        } else {
            qkvElements = H * Double(model.heads * model.headDim) / tp + 2 * H * Double(kvHeadsPerDevice * model.headDim)
            qkvOut = Double(model.qkvWidth) / tp
        }
        if independent { body(Operator(name: "QKV projection", kind: .qkvProjection, flops: FLOPs(2 * T * qkvElements),
                      weightBytes: Bytes(qkvElements * wt), activationBytes: Bytes(T * (H + qkvOut) * act),
                      rows: T, arithmetic: gemmArith, repeats: L)) }

        // Attention core (`AttentionTerms`).
        let attention = attentionTerms()
        if step.prefillTokens > 0 {
            let p = Double(step.prefillTokens)
            if dependent { body(Operator(name: "attention (prefill)", kind: .attentionPrefill,
                          flops: FLOPs(step.prefillAttentionPairs * attention.flopsPerPair),
                          activationBytes: Bytes(p * attention.qoBytesPerToken),
                          kvBytes: Bytes((Double(step.prefillContextTokens) + p) * attention.kvPerTokenPerLayer),
                          rows: p / Double(step.prefillSequences), sequences: Double(step.prefillSequences),
                          arithmetic: attention.arithmetic, repeats: L)) }
        }
        if step.decodeTokens > 0 && dependent { body(attention.decode(step)) }

        let oElements = Double(model.heads * (model.mla?.vHeadDim ?? model.headDim)) * H / tp
        if independent { body(Operator(name: "output projection", kind: .outputProjection, flops: FLOPs(2 * T * oElements),
                      weightBytes: Bytes(oElements * wt), activationBytes: Bytes(T * (oElements / H + H) * act),
                      rows: T, arithmetic: gemmArith, repeats: L)) }

        let reduceBytes = Bytes(T * H * max(act, 2))
        if collectiveRanks > 1 && dp == 1 {
            if independent { body(Operator(name: "all-reduce (attention)", kind: .allReduce, arithmetic: arith, repeats: L,
                          communicationBytes: reduceBytes)) }
        }
        if independent { body(Operator(name: "rmsnorm (FFN)", kind: .norm, flops: FLOPs(4 * T * H),
                      activationBytes: Bytes(2 * T * H * act), rows: T, arithmetic: arith, repeats: L)) }

        let matrices = model.ffn == .gated ? 3.0 : 2.0
        if model.denseFFNLayers > 0 {
            let e = model.ffnWeightElements(size: model.ffnSize) / tp
            let f = Double(model.ffnSize) / tp
            if independent { body(Operator(name: "FFN", kind: .ffn, flops: FLOPs(2 * T * e), weightBytes: Bytes(e * wt),
                          activationBytes: Bytes(T * (2 * H + matrices * f) * act),
                          rows: T, arithmetic: gemmArith, repeats: model.denseFFNLayers)) }
            if independent { body(Operator(name: "activation + residual", kind: .elementwise, flops: FLOPs(T * (f + 2 * H)),
                          activationBytes: Bytes(T * (3 * f + 4 * H) * act), rows: T, activationElements: T * f, arithmetic: arith,
                          repeats: model.denseFFNLayers)) }
        }
        if let moe = model.moe, model.moeLayers > 0 {
            let E = Double(moe.experts)
            let k = Double(moe.activeExperts)
            let router = H * E
            if independent { body(Operator(name: "MoE router", kind: .moeRouter, flops: FLOPs(2 * T * router),
                          weightBytes: Bytes(router * wt), activationBytes: Bytes(T * (H + E) * act),
                          rows: T, arithmetic: gemmArith, repeats: model.moeLayers)) }
            let shared = Double(moe.sharedExperts)
            // The busiest rank's routed token-expert pairs and distinct experts (all ranks for
            // tensor parallelism, where each holds a 1/tp slice of every expert).
            let load = ExpertLoad(tokens: dp > 1 ? globalTokens : T, experts: E, active: k, ranks: Double(expertParallel), imbalance: expertImbalance)
            let slice = Double(tensorParallel) / Double(expertParallel)
            // Under data-parallel attention, the tokens' trip to their experts' devices and back.
            var exchange: (dispatch: Operator, combine: Operator)?
            if dp > 1 && independent {
                switch expertDispatch {
                case .allToAll:
                    // This device's tokens to the devices of their k experts (all but 1/ep of them remote), and back.
                    let bytes = Bytes(T * k * H * act * (1 - 1 / Double(expertParallel)))
                    exchange = (Operator(name: "MoE dispatch (all-to-all)", kind: .allToAll, arithmetic: arith, repeats: model.moeLayers,
                                         communicationBytes: bytes),
                                Operator(name: "MoE combine (all-to-all)", kind: .allToAll, arithmetic: arith, repeats: model.moeLayers,
                                         communicationBytes: bytes))
                case .allGatherReduceScatter:
                    exchange = (Operator(name: "MoE dispatch (all-gather)", kind: .allGather, arithmetic: arith, repeats: model.moeLayers,
                                         communicationBytes: Bytes(globalTokens * H * act)),
                                Operator(name: "MoE combine (reduce-scatter)", kind: .reduceScatter, arithmetic: arith, repeats: model.moeLayers,
                                         communicationBytes: Bytes(globalTokens * H * max(act, 2))))
                }
            }
            if let exchange { body(exchange.dispatch) }
            let expert = model.ffnWeightElements(size: moe.expertFFNSize) / slice
            let f = Double(moe.expertFFNSize) / slice
            // Shared experts see every token; each rank holds them sliced like its routed experts.
            let pairs = load.busiestPairs + T * shared
            let distinct = load.busiestDistinctExperts + shared
            if independent { body(Operator(name: "MoE experts", kind: .moeExperts, flops: FLOPs(2 * pairs * expert),
                          weightBytes: Bytes(distinct * expert * wt),
                          activationBytes: Bytes(pairs * (2 * H + matrices * f) * act),
                          rows: pairs / distinct, arithmetic: gemmArith, repeats: model.moeLayers)) }
            if independent { body(Operator(name: "activation + residual", kind: .elementwise, flops: FLOPs(pairs * (f + 2 * H)),
                          activationBytes: Bytes((pairs * 3 * f + T * 4 * H) * act), rows: T,
                          activationElements: pairs * f, arithmetic: arith,
                          repeats: model.moeLayers)) }
            if let exchange { body(exchange.combine) }
        }
        if collectiveRanks > 1 && dp == 1 {
            if independent { body(Operator(name: "all-reduce (FFN)", kind: .allReduce, arithmetic: arith, repeats: L,
                          communicationBytes: reduceBytes)) }
        }
        if pipelineHops > 0 {
            if independent { body(Operator(name: "pipeline transfer", kind: .pipelineTransfer, arithmetic: arith,
                          repeats: pipelineHops, communicationBytes: Bytes(T * H * act))) }
        }

        if independent { body(Operator(name: "final rmsnorm", kind: .norm, flops: FLOPs(4 * logitRows * H),
                      activationBytes: Bytes(2 * logitRows * H * act), rows: logitRows, arithmetic: arith, repeats: 1)) }
        let head = Double(model.vocabSize) * H / tp
        if independent { body(Operator(name: "LM head", kind: .lmHead, flops: FLOPs(2 * logitRows * head),
                      weightBytes: Bytes(head * precision.embeddingType.bytesPerElement),
                      activationBytes: Bytes(logitRows * (H * act + Double(model.vocabSize) / tp * 4)),
                      rows: logitRows, arithmetic: headArith, repeats: 1)) }
    }
}


/// The constants of a deployment's attention core (one device's heads, all layers). Per head and
/// query-key pair: `2·dQK` FLOPs for the scores and `2·dV` for the weighted values; MLA runs
/// "absorbed" over its latent: `dQK = kvLoraRank + ropeHeadDim`, `dV = kvLoraRank`.
public struct AttentionTerms: Sendable {
    public let flopsPerPair: Double
    public let kvPerTokenPerLayer: Double
    public let qoBytesPerToken: Double
    /// Query heads that share one cached key/value: the GQA group (all heads for MLA).
    public let groupHeads: Double
    public let arithmetic: DType
    public let layers: Int

    /// The decode attention of `step` (plain decodes and verifications): the one operator of a
    /// decode-only step that depends on its cached context. A decode run prices it step by step.
    @inline(__always) public func decode(_ step: StepWorkload) -> Operator {
        let d = Double(step.decodeTokens)
        // The group times the tokens a sequence verifies at once (1 for a plain decode: the factor is exact).
        let group = groupHeads * (d / Double(step.decodeSequences))
        return Operator(name: "attention (decode)", kind: .attentionDecode,
                        flops: FLOPs(step.decodeAttentionPairs * flopsPerPair),
                        activationBytes: Bytes(d * qoBytesPerToken),
                        kvBytes: Bytes((Double(step.decodeContextTokens) + d) * kvPerTokenPerLayer),
                        rows: group, sequences: Double(step.decodeSequences), arithmetic: arithmetic, repeats: layers)
    }
}

extension Deployment {
    /// This deployment's `AttentionTerms`.
    public func attentionTerms() -> AttentionTerms {
        let headsPerDevice = Double(model.heads) / Double(attentionTensorParallel)
        let kvb = precision.kvCache.bytesPerElement
        let kvPerTokenPerLayer: Double
        let flopsPerPair: Double
        if let mla = model.mla {
            kvPerTokenPerLayer = Double(mla.kvLoraRank + mla.ropeHeadDim) * kvb
            flopsPerPair = headsPerDevice * Double(2 * (mla.kvLoraRank + mla.ropeHeadDim) + 2 * mla.kvLoraRank)
        } else {
            kvPerTokenPerLayer = Double(2 * kvHeadsPerDevice * model.headDim) * kvb
            flopsPerPair = headsPerDevice * Double(4 * model.headDim)
        }
        return AttentionTerms(flopsPerPair: flopsPerPair, kvPerTokenPerLayer: kvPerTokenPerLayer,
                              qoBytesPerToken: 2 * headsPerDevice * Double(model.headDim) * precision.activations.bytesPerElement,
                              groupHeads: model.mla != nil ? headsPerDevice : Double(model.heads / model.kvHeads),
                              arithmetic: precision.attentionArithmetic, layers: model.layers)
    }
}

/// Which operators of a step `Deployment.forEachOperator` lists.
public enum OperatorPart: Sendable {
    case all
    /// The attention cores, whose work grows with the cached context.
    case contextDependent
    /// Everything else: its work depends only on the step's token counts.
    case contextIndependent
}

/// How routed tokens load the busiest expert-parallel rank.
///
/// `T` tokens each go to `k` of `E` experts; `ranks` ranks hold `E / ranks` experts each. With
/// uniform routing a rank receives on average `μ = T·k/ranks` token-expert pairs; the busiest of
/// `ranks` receives about `μ + σ·√(2 ln ranks)` (the expected maximum of `ranks` nearly normal
/// loads, `σ² = μ(1 − 1/ranks)`), never more than `T·min(k, E/ranks)`. An explicit `imbalance`
/// (busiest over mean) replaces that expectation. Its distinct experts are those of its
/// `E/ranks` that receive a pair: `m(1 − (1 − 1/m)^pairs)`. With one rank (tensor parallelism) this
/// is the whole step: `T·k` pairs over `E(1 − (1 − k/E)^T)` distinct experts, each a 1/tp slice.
public struct ExpertLoad: Sendable {
    public var busiestPairs: Double
    public var busiestDistinctExperts: Double

    public init(tokens T: Double, experts E: Double, active k: Double, ranks n: Double, imbalance: Double? = nil) {
        guard n > 1 else {
            busiestPairs = T * k
            busiestDistinctExperts = E * (1 - pow(1 - k / E, T))
            return
        }
        let m = E / n
        let mean = T * k / n
        let busiest = imbalance.map { mean * $0 } ?? (mean + Self.spread(mean: mean, ranks: n))
        busiestPairs = min(busiest, T * min(k, m))
        busiestDistinctExperts = m * (1 - pow(1 - 1 / m, busiestPairs))
    }

    /// `σ·√(2 ln n)` for `n` ranks of mean load `mean`.
    static func spread(mean: Double, ranks n: Double) -> Double { (mean * (1 - 1 / n)).squareRoot() * (2 * log(n)).squareRoot() }

    /// Uniform top-k routing's expected busiest-rank load over the mean.
    public static func expectedImbalance(tokens T: Double, active k: Double, ranks n: Double) -> Double {
        let mean = T * k / n
        return mean > 0 ? 1 + spread(mean: mean, ranks: n) / mean : 1
    }
}
