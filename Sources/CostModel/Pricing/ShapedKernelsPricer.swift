import Foundation
import HardwareModel

/// A GPU priced by the kernel efficiencies its engine fitted on it by shape (`KernelFit`).
///
/// - Weight GEMMs: `fixed + (c^p + m^p)^(1/p)`, `c` the FLOPs at the fitted large-GEMM rate of
///   the arithmetic type, `m` the bytes at the fitted streaming rate. A gated FFN runs as two
///   GEMMs (gate and up fused, then down), each priced on its own share.
/// - Decode attention: `fixed + max(bytes / bandwidth, waves · blockBytes / perBlock, FLOPs /
///   attention rate)`, with `sequences × KV heads` thread blocks for FlashAttention-2, or as many
///   context splits as fill the SMs for a split-KV kernel.
/// - Prefill attention: the FLOPs at the engine's causal prefill fraction of the attention
///   type's peak (falling off for short chunks as `n / (n + n½)`), the bytes at the attention bandwidth, plus the attention kernel's fixed time.
/// - Norms, activations, embeddings: `smallKernel + bytes / copy bandwidth` per kernel; an engine
///   that leaves more kernels unfused (`elementwiseKernelsPerLayer`) pays the extra kernels on the
///   two per-layer norms, each reading and writing one token-by-hidden activation.
/// - Every kernel adds the engine's launch cost (`PricingRates.kernelOverheadSeconds`);
///   collectives are the roofline's.
public struct ShapedKernelsPricer: ExecutionPricer {
    public init() {}

    public func cost(of op: Operator, in d: Deployment) -> OperatorCost {
        if op.kind.isCommunication { return RooflinePricer.communication(op, in: d) }
        guard let fit = d.kernelFit else { return RooflinePricer().cost(of: op, in: d) }
        let launch = d.rates.kernelOverheadSeconds
        let bandwidth = d.rates.memoryBandwidth
        let r = d.computeRates(op.arithmetic)
        let atPeak = max(op.flops.value / r.peakFLOPsPerSecond, op.memoryBytes.value / bandwidth)
        let bytes = op.memoryBytes.value
        switch op.kind {
        case .qkvProjection, .outputProjection, .ffn, .moeRouter, .moeExperts, .lmHead:
            let rate = fit.gemmFLOPs(op.arithmetic) ?? r.peakFLOPsPerSecond * r.fraction
            let g = fit.gemm
            // A gated FFN is two GEMMs: gate and up (2/3 of the work), then down (1/3).
            let shares: [Double] = (op.kind == .ffn || op.kind == .moeExperts) ? (d.model.ffn == .gated ? [2.0 / 3, 1.0 / 3] : [0.5, 0.5]) : [1]
            var compute = 0.0, memory = 0.0, total = 0.0
            for s in shares {
                let c = s * op.flops.value / rate
                let m = s * bytes / g.bandwidthBytesPerSecond
                compute += c
                memory += m
                total += g.fixedSeconds + Self.smoothMax(c, m, g.overlapExponent)
            }
            return Self.priced(compute: compute, memory: memory, total: total, launch: launch * Double(shares.count), atPeak: atPeak)
        case .attentionDecode:
            let a = fit.decodeAttention
            let kvHeads = Double(d.model.mla != nil ? 1 : d.kvHeadsPerDevice)
            let sms = Double(fit.smCount)
            var blocks = max(1, op.sequences * kvHeads)
            if d.engine?.attention.kernel == .splitKV && blocks < sms { blocks *= (sms / blocks).rounded(.down) }
            let waves = (blocks / sms).rounded(.up)
            let memory = max(bytes / a.bandwidthBytesPerSecond, waves * (bytes / blocks) / a.perBlockBytesPerSecond)
            let compute = op.flops.value / (r.peakFLOPsPerSecond * r.fraction)
            return Self.priced(compute: compute, memory: memory, total: a.fixedSeconds + max(compute, memory), launch: launch, atPeak: atPeak)
        case .attentionPrefill:
            let chunk = max(op.rows, 1)
            let fraction = (d.engine?.attention.prefillComputeFraction ?? r.fraction) * chunk / (chunk + (d.engine?.attention.prefillHalfTokens ?? 0))
            let compute = op.flops.value / (r.peakFLOPsPerSecond * fraction)
            let memory = bytes / fit.decodeAttention.bandwidthBytesPerSecond
            return Self.priced(compute: compute, memory: memory, total: fit.decodeAttention.fixedSeconds + max(compute, memory),
                               launch: launch, atPeak: atPeak)
        case .norm, .elementwise, .embedding:
            var kernels = 1.0
            var extraBytes = 0.0
            if op.kind == .norm, op.repeats == d.model.layers, let n = d.engine?.elementwiseKernelsPerLayer, n > 3 {
                // The per-layer norm operators carry the unfused kernels beyond the three the
                // operator list prices (two norms and the activation), half each.
                let extra = Double(n - 3) / 2
                kernels += extra
                extraBytes = extra * 2 * op.rows * Double(d.model.hiddenSize) * d.precision.activations.bytesPerElement
            }
            let memory = (bytes + extraBytes) / fit.streamBytesPerSecond
            let compute = op.flops.value / (r.peakFLOPsPerSecond * r.fraction)
            return Self.priced(compute: compute, memory: memory, total: kernels * fit.smallKernelSeconds + max(compute, memory),
                               launch: launch * kernels, atPeak: atPeak)
        case .allReduce, .pipelineTransfer, .allToAll, .allGather, .reduceScatter:
            return RooflinePricer.communication(op, in: d)
        }
    }

    /// `(a^p + b^p)^(1/p)`, computed without overflow.
    @inline(__always) public static func smoothMax(_ a: Double, _ b: Double, _ p: Double) -> Double {
        let hi = max(a, b)
        guard hi > 0 else { return 0 }
        if p >= 100 { return hi }
        return hi * pow(pow(a / hi, p) + pow(b / hi, p), 1 / p)
    }

    /// An operator cost whose `total` is `total + launch`: the work is split into its compute and
    /// memory parts for the bound, and whatever the fit adds beyond their max (ramp, tail, the
    /// smooth turn) is memory time when memory binds, compute time when compute does, and overhead when it
    /// exceeds both.
    @inline(__always) static func priced(compute: Double, memory: Double, total: Double, launch: Double, atPeak: Double) -> OperatorCost {
        let work = max(compute, memory)
        let extra = max(0, total - work)
        if extra > work {
            return OperatorCost(compute: Seconds(compute), memory: Seconds(memory), communication: .zero,
                                overhead: Seconds(launch + extra), atPeak: Seconds(atPeak))
        }
        if memory >= compute {
            return OperatorCost(compute: Seconds(compute), memory: Seconds(memory + extra), communication: .zero,
                                overhead: Seconds(launch), atPeak: Seconds(atPeak))
        }
        return OperatorCost(compute: Seconds(compute + extra), memory: Seconds(memory), communication: .zero,
                            overhead: Seconds(launch), atPeak: Seconds(atPeak))
    }
}

extension Deployment {
    /// Where `step` lies outside the shapes the device's kernel fit saw: one phrase per
    /// extrapolated dimension (empty when the step is inside, or nothing was fitted).
    public func extrapolations(of step: StepWorkload) -> [String] {
        guard let fit = kernelFit, !step.isEmpty else { return [] }
        var out: [String] = []
        func outside(_ v: Double, _ r: [Double]) -> Bool { v < r[0] || v > r[1] }
        func n(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }
        let rows = Double(step.totalTokens)
        if outside(rows, fit.range.gemmRows) { out.append("GEMM rows \(n(rows)) outside the fitted \(n(fit.range.gemmRows[0]))-\(n(fit.range.gemmRows[1]))") }
        if step.decodeSequences > 0 {
            let b = Double(step.decodeSequences)
            let context = Double(step.decodeContextTokens) / b
            if outside(b, fit.range.attentionSequences) {
                out.append("decode batch \(n(b)) outside the fitted \(n(fit.range.attentionSequences[0]))-\(n(fit.range.attentionSequences[1]))")
            }
            if outside(context, fit.range.attentionContext) {
                out.append("decode context \(n(context)) outside the fitted \(n(fit.range.attentionContext[0]))-\(n(fit.range.attentionContext[1]))")
            }
        }
        return out
    }
}
